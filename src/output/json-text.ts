/**
 * JSON text with two-space indentation, except that an array holding no objects or arrays stays
 * on one line: a 1,000-element result takes one line, not a thousand.
 *
 * `writeNumber` decides how a number is spelt (as JSON.stringify, but keeping -0); `RawJson` values are
 * written verbatim, for numbers a dialect spells its own way (fixtures' Python tokens).
 */
export function writeJson(value: unknown, writeNumber: (value: number) => string = jsonNumberText): string {
  return write(value, '', writeNumber);
}

/** JSON.stringify's spelling, except that negative zero keeps its sign (`-0.0`, not `0`). */
function jsonNumberText(value: number): string {
  return Object.is(value, -0) ? '-0.0' : JSON.stringify(value);
}

/** A value already spelt as JSON (or as Python's JSON dialect), written as it is. */
export class RawJson {
  constructor(readonly text: string) {}
}

function write(value: unknown, indent: string, writeNumber: (value: number) => string): string {
  if (typeof value === 'number') return writeNumber(value);
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item !== 'object' || item === null || item instanceof RawJson)) {
      return `[${value.map((item) => write(item, indent, writeNumber)).join(',')}]`;
    }
    const inner = `${indent}  `;
    return `[\n${value.map((item) => inner + write(item, inner, writeNumber)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const inner = `${indent}  `;
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => `${inner}${JSON.stringify(key)}: ${write(item, inner, writeNumber)}`);
    return entries.length === 0 ? '{}' : `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}
