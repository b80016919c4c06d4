import { printable } from '../printable.js';

/**
 * JSON text with two-space indentation, except that an array holding no objects or arrays stays
 * on one line: a 1,000-element result takes one line, not a thousand.
 *
 * `writeNumber` decides how a number is spelt (as JSON.stringify, but keeping -0); `RawJson` values are
 * written verbatim, for numbers a dialect spells its own way (fixtures' Python tokens); a
 * `JsonTensor` is written as nested arrays straight from its flat data.
 *
 * The text is produced as a sequence of pieces (`jsonChunks`), none much over CHUNK_CHARS
 * whatever the size of the value, so a report of any size can be streamed (json-stream.ts);
 * `writeJson` joins the same pieces into one string.
 */
export function writeJson(value: unknown, writeNumber: (value: number) => string = jsonNumberText): string {
  let text = '';
  for (const chunk of jsonChunks(value, writeNumber)) text += chunk;
  return text;
}

/** JSON.stringify's spelling, except that negative zero keeps its sign (`-0.0`, not `0`). */
function jsonNumberText(value: number): string {
  return Object.is(value, -0) ? '-0.0' : JSON.stringify(value);
}

/** A value already spelt as JSON (or as Python's JSON dialect), written as it is. */
export class RawJson {
  constructor(readonly text: string) {}
}

/**
 * Flat row-major data written as arrays nested in `shape` (as `toNested` would build them), without
 * building them. Each element is spelt as the reports spell numbers: finite ones as JSON.stringify
 * does (the shortest text that reads back as the same float64), -0 as `-0.0`, and NaN, Infinity
 * and -Infinity as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
 */
export class JsonTensor {
  constructor(
    readonly data: ArrayLike<number>,
    readonly shape: readonly number[],
  ) {}
}

/** About how many characters a piece from `jsonChunks` holds at most (one block of numbers more). */
export const CHUNK_CHARS = 1 << 16;
/** Numbers formatted at a time: a block's text is ~100 kB at most (4,096 × 24 characters). */
const BLOCK = 4096;

/**
 * The pieces of `writeJson(value, writeNumber)`, in order. `written`, when given, is told how many
 * of the JsonTensors' numbers each block held, as they are written (a long report's progress).
 */
export function* jsonChunks(
  value: unknown,
  writeNumber: (value: number) => string = jsonNumberText,
  written?: (numbers: number) => void,
): Generator<string, void, undefined> {
  yield* chunks(value, '', writeNumber, written);
}

/** How many numbers the JsonTensors within `value` hold: what `jsonChunks` tells `written` in all. */
export function tensorNumbers(value: unknown): number {
  if (value instanceof JsonTensor) return value.data.length;
  if (value === null || typeof value !== 'object' || value instanceof RawJson) return 0;
  let count = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value)) count += tensorNumbers(item);
  return count;
}

function* chunks(value: unknown, indent: string, writeNumber: (value: number) => string, written?: (numbers: number) => void): Generator<string, void, undefined> {
  if (typeof value === 'number') {
    yield writeNumber(value);
  } else if (value instanceof RawJson) {
    yield value.text;
  } else if (value instanceof JsonTensor) {
    yield* tensorChunks(value, indent, written);
  } else if (Array.isArray(value)) {
    if (value.every((item) => typeof item !== 'object' || item === null || item instanceof RawJson)) {
      yield* lineChunks(value, writeNumber);
      return;
    }
    const inner = `${indent}  `;
    for (let i = 0; i < value.length; i++) {
      yield i === 0 ? `[\n${inner}` : `,\n${inner}`;
      yield* chunks(value[i], inner, writeNumber, written);
    }
    yield `\n${indent}]`;
  } else if (typeof value === 'object' && value !== null) {
    const inner = `${indent}  `;
    let first = true;
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      yield `${first ? '{\n' : ',\n'}${inner}${stringText(key)}: `;
      first = false;
      yield* chunks(item, inner, writeNumber, written);
    }
    yield first ? '{}' : `\n${indent}}`;
  } else {
    yield scalarText(value, writeNumber);
  }
}

/** An array of numbers, strings, null or RawJson, on one line. */
function* lineChunks(items: readonly unknown[], writeNumber: (value: number) => string): Generator<string, void, undefined> {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    const item: unknown = items[i];
    out += typeof item === 'number' ? writeNumber(item) : item instanceof RawJson ? item.text : scalarText(item, writeNumber);
    if (out.length >= CHUNK_CHARS) {
      yield out;
      out = '';
    }
  }
  yield `${out}]`;
}

/** A string, boolean or null as JSON.stringify spells it; nothing for what JSON has no spelling of. */
function scalarText(value: unknown, writeNumber: (value: number) => string): string {
  if (typeof value === 'number') return writeNumber(value);
  if (typeof value === 'string') return stringText(value);
  return (JSON.stringify(value) as string | undefined) ?? '';
}

/**
 * A string as JSON, with what would act on a terminal (C1 controls, bidirectional controls, line
 * separators; JSON.stringify escapes only C0) as \uXXXX escapes too: the same string to a parser,
 * and inert when the report is shown as text (`cat report.json`, a CI log).
 */
function stringText(value: string): string {
  return printable(JSON.stringify(value));
}

/**
 * A tensor as nested arrays: every array but the innermost over several lines, the innermost on
 * one, exactly as `chunks` writes the arrays `toNested` builds. The text is gathered into pieces
 * of about CHUNK_CHARS, so a tensor of many short rows is not thousands of tiny pieces either.
 */
function* tensorChunks({ data, shape }: JsonTensor, indent: string, written?: (numbers: number) => void): Generator<string, void, undefined> {
  // toNested of a rank-0 shape builds an array of no numbers: `[]`.
  if (shape.length === 0) {
    yield '[]';
    return;
  }
  const last = shape.length - 1;
  let out = '';
  let offset = 0;
  function* dimension(d: number, indent: string): Generator<string, void, undefined> {
    const size = shape[d];
    if (size === 0) {
      out += '[]';
    } else if (d === last) {
      out += '[';
      for (let start = 0; start < size; start += BLOCK) {
        if (start > 0) out += ',';
        out += formatNumbers(data, offset + start, offset + Math.min(size, start + BLOCK));
        written?.(Math.min(size, start + BLOCK) - start);
        if (out.length >= CHUNK_CHARS) {
          yield out;
          out = '';
        }
      }
      out += ']';
      offset += size;
    } else {
      const inner = `${indent}  `;
      out += '[\n';
      for (let i = 0; i < size; i++) {
        out += i === 0 ? inner : `,\n${inner}`;
        yield* dimension(d + 1, inner);
      }
      out += `\n${indent}]`;
    }
  }
  yield* dimension(0, indent);
  if (out.length > 0) yield out;
}

/**
 * `data[start..end)` spelt as JsonTensor says, separated by commas: String(v) is the shortest
 * round-trip spelling (JSON.stringify's). Each block's texts joined at once: 10^6 doubles take
 * about as long as JSON.stringify of a plain array of them (145 ms against 126), where appending
 * each to one string took 2.5 times as long, and JSON.stringify of each block copied to an array
 * (after a scan for -0 and non-finite values) 1.5 times.
 */
export function formatNumbers(data: ArrayLike<number>, start: number, end: number): string {
  const texts = new Array<string>(Math.max(0, end - start));
  for (let i = start; i < end; i++) {
    const v = data[i];
    // Finite and not -0 (v - v is NaN for NaN and ±Infinity; 1 / -0 is -Infinity).
    texts[i - start] = v - v === 0 && (v !== 0 || 1 / v > 0) ? String(v) : numberText(v);
  }
  return texts.join(',');
}

function numberText(v: number): string {
  if (v - v === 0) return v === 0 && 1 / v < 0 ? '-0.0' : String(v);
  if (v !== v) return '"NaN"';
  return v > 0 ? '"Infinity"' : '"-Infinity"';
}
