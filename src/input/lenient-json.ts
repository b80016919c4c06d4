import { describeValue } from '../input-error.js';

/**
 * JSON as Python's `json` module writes it: standard JSON plus the bare tokens `NaN`, `Infinity`
 * and `-Infinity`, which is how `json.dump` writes non-finite floats and so how PyTorch users dump
 * tensors.
 *
 * One pass over the text, linear in its length (no regular expression that can backtrack), does
 * two things before `JSON.parse` sees it: it rewrites the bare tokens to the strings `"NaN"`,
 * `"Infinity"`, `"-Infinity"` (which the number reader accepts, as Python's `float()` does), and
 * it refuses nesting deeper than MAX_JSON_DEPTH, so that no later walk over the value, however
 * written, meets a depth the call stack or memory cannot take. `JSON.parse` is an order of
 * magnitude faster than any JavaScript-level parser on million-number inputs; it keeps
 * `__proto__` as an ordinary own key, so keys cannot reach any prototype. Only when parsing fails
 * does a small scanner walk the original text to say where, by line and column, since V8's
 * messages do not always carry a position.
 */

/**
 * The deepest a JSON input may nest: a document (1) with `expected` (2) holding an array of
 * MAX_RANK (64) levels needs 66; the rest is headroom. Deeper text is refused before it is parsed.
 */
export const MAX_JSON_DEPTH = 100;

export type JsonOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly kind: 'syntax'; readonly line: number; readonly column: number; readonly message: string }
  /** Nested deeper than MAX_JSON_DEPTH; `keys`: the object keys on the way there (the field), outermost first. */
  | { readonly ok: false; readonly kind: 'depth'; readonly line: number; readonly column: number; readonly message: string; readonly keys: readonly string[] };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;

// Outside strings, an N or an I can only begin NaN or Infinity (true, false and null have neither).
const NOTABLE = /["[\]{}NI]/g;

export function parseLenientJson(text: string): JsonOutcome {
  const prepared = quoteBareTokens(text);
  if (typeof prepared === 'number') {
    const { line, column } = lineAndColumn(text, prepared);
    return { ok: false, kind: 'depth', line, column, message: `nested more than ${MAX_JSON_DEPTH} levels deep`, keys: keysAt(text, prepared) };
  }
  try {
    return { ok: true, value: JSON.parse(prepared) };
  } catch {
    const { offset, message } = locateJsonError(text);
    const { line, column } = lineAndColumn(text, offset);
    return { ok: false, kind: 'syntax', line, column, message };
  }
}

/**
 * The text with bare NaN/Infinity/-Infinity quoted, or the offset of the bracket that opens a
 * level beyond MAX_JSON_DEPTH. Strings are skipped whole, so a "NaN" inside one is never touched;
 * text that is not JSON is left for JSON.parse to refuse.
 */
function quoteBareTokens(text: string): string | number {
  const pieces: string[] = [];
  let copied = 0;
  let depth = 0;
  NOTABLE.lastIndex = 0;
  for (let match = NOTABLE.exec(text); match !== null; match = NOTABLE.exec(text)) {
    const i = match.index;
    switch (match[0]) {
      case '"':
        NOTABLE.lastIndex = endOfString(text, i) + 1;
        break;
      case '[':
      case '{':
        if (++depth > MAX_JSON_DEPTH) return i;
        break;
      case ']':
      case '}':
        depth--;
        break;
      default: {
        const word = match[0] === 'N' ? 'NaN' : 'Infinity';
        if (!text.startsWith(word, i)) break;
        const start = i > 0 && text.charCodeAt(i - 1) === MINUS ? i - 1 : i;
        const end = i + word.length;
        pieces.push(text.slice(copied, start), '"', text.slice(start, end), '"');
        copied = end;
        NOTABLE.lastIndex = end;
      }
    }
  }
  if (pieces.length === 0) return text;
  pieces.push(text.slice(copied));
  return pieces.join('');
}

/**
 * The offset of the quote that closes the string opening at `open`, or the text's length when
 * none does. A quote closes it when an even number of backslashes precede it; each run of
 * backslashes is counted once, before the one quote it can precede, so the search stays linear.
 */
function endOfString(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/**
 * The object keys that lead to `offset` (the field a too-deep value is in), found by a second pass
 * that runs only when the first refused the text. Keys are decoded as JSON strings; one that is not
 * valid JSON is kept as written.
 */
function keysAt(text: string, offset: number): string[] {
  // One entry per open container: the key being read in an object (undefined before the first), null in an array.
  const stack: (string | null | undefined)[] = [];
  let expectKey = false;
  for (let i = 0; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = endOfString(text, i);
      if (expectKey) {
        const raw = text.slice(i, end + 1);
        let key: string;
        try {
          key = JSON.parse(raw) as string;
        } catch {
          key = raw.slice(1, -1);
        }
        stack[stack.length - 1] = key;
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      stack.push(undefined);
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
    }
  }
  return stack.filter((key): key is string => typeof key === 'string');
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

const LITERALS = ['true', 'false', 'null', 'NaN', 'Infinity', '-Infinity'];

/**
 * Finds the first place where `text` stops being (lenient) JSON. Iterative, with an explicit
 * stack, so that deeply nested input cannot overflow the call stack; strings and numbers are read
 * by hand, character by character, as a backtracking regular expression would need a stack entry
 * per character of a long string.
 */
export function locateJsonError(text: string): { offset: number; message: string } {
  const stack: string[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const found = (): string => (i < text.length ? `found ${JSON.stringify(text[i])}` : 'found the end of the input');
  const fail = (what: string): { offset: number; message: string } => ({ offset: i, message: `${what}, ${found()}` });
  const scan = (read: (text: string, from: number) => number): boolean => {
    const end = read(text, i);
    if (end === -1) return false;
    i = end;
    return true;
  };
  const readKey = (): { offset: number; message: string } | undefined => {
    skipSpace();
    if (!scan(stringEnd)) return fail('expected a quoted key');
    skipSpace();
    if (text[i] !== ':') return fail("expected ':' after a key");
    i++;
    return undefined;
  };

  for (;;) {
    // A value is expected here.
    skipSpace();
    const c = text[i];
    if (c === '[' || c === '{') {
      i++;
      skipSpace();
      const close = c === '[' ? ']' : '}';
      if (text[i] === close) {
        i++;
      } else {
        stack.push(close);
        const keyError = close === '}' ? readKey() : undefined;
        if (keyError !== undefined) return keyError;
        continue;
      }
    } else if (c === '"') {
      if (!scan(stringEnd)) return fail('unterminated or invalid string');
    } else if (!scan(numberEnd)) {
      const literal = LITERALS.find((word) => text.startsWith(word, i));
      if (literal === undefined) return fail('expected a value');
      i += literal.length;
    }
    // A value has ended: close containers, or move to the next element.
    for (;;) {
      skipSpace();
      const close = stack[stack.length - 1];
      if (close === undefined) {
        return i < text.length ? fail('unexpected text after the JSON value') : { offset: i, message: 'no error' };
      }
      if (text[i] === close) {
        stack.pop();
        i++;
        continue;
      }
      if (text[i] !== ',') return fail(`expected ',' or '${close}'`);
      i++;
      const keyError = close === '}' ? readKey() : undefined;
      if (keyError !== undefined) return keyError;
      break;
    }
  }
}

const ESCAPED = '"\\/bfnrt';

/** Where a JSON string starting at `from` ends (just past its closing quote), or -1 when it is not one. */
function stringEnd(text: string, from: number): number {
  if (text.charCodeAt(from) !== QUOTE) return -1;
  let i = from + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c !== BACKSLASH) {
      i++;
    } else if (ESCAPED.includes(text.charAt(i + 1))) {
      i += 2;
    } else if (text.charAt(i + 1) === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
      i += 6;
    } else {
      return -1;
    }
  }
  return -1;
}

/** Where a JSON number starting at `from` ends, or -1 when none starts there: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
function numberEnd(text: string, from: number): number {
  let i = from;
  if (text.charCodeAt(i) === MINUS) i++;
  if (text.charCodeAt(i) === 0x30 /* 0 */) {
    i++;
  } else {
    const end = digitsEnd(text, i);
    if (end === i) return -1;
    i = end;
  }
  if (text.charAt(i) === '.') {
    const end = digitsEnd(text, i + 1);
    if (end > i + 1) i = end;
  }
  if (text.charAt(i) === 'e' || text.charAt(i) === 'E') {
    const sign = text.charAt(i + 1) === '+' || text.charAt(i + 1) === '-' ? 1 : 0;
    const end = digitsEnd(text, i + 1 + sign);
    if (end > i + 1 + sign) i = end;
  }
  return i;
}

function digitsEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
  return i;
}

/**
 * The field a depth error names, from the keys that lead to it: `expected.grad`; keys that are
 * not plain names are quoted (and cut short), and past three keys the rest is left out.
 */
export function fieldOfKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, 3).map((key) => (/^[A-Za-z_][A-Za-z0-9_]{0,39}$/.test(key) ? key : describeValue(key)));
  return shown.join('.') + (keys.length > 3 ? '.…' : '');
}
