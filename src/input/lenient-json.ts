/**
 * JSON as Python's `json` module writes it: standard JSON plus the bare tokens `NaN`, `Infinity`
 * and `-Infinity`, which is how `json.dump` writes non-finite floats and so how PyTorch users dump
 * tensors.
 *
 * The bare tokens are rewritten to the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (which the
 * number reader accepts, as Python's `float()` does) and the text goes through `JSON.parse`, which
 * is an order of magnitude faster than any JavaScript-level parser on million-number inputs.
 * `JSON.parse` keeps `__proto__` as an ordinary own key, so keys cannot reach any prototype.
 * Only when parsing fails does a small scanner walk the original text to say where, by line and
 * column, since V8's messages do not always carry a position.
 */

export type JsonOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly line: number; readonly column: number; readonly message: string };

// Strings are matched first and kept whole, so a "NaN" inside a string is never touched.
const BARE_TOKEN = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;

export function parseLenientJson(text: string): JsonOutcome {
  const quoted = text.includes('NaN') || text.includes('Infinity')
    ? text.replace(BARE_TOKEN, (match) => (match[0] === '"' ? match : `"${match}"`))
    : text;
  try {
    return { ok: true, value: JSON.parse(quoted) };
  } catch {
    const { offset, message } = locateJsonError(text);
    const { line, column } = lineAndColumn(text, offset);
    return { ok: false, line, column, message };
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const LITERALS = ['true', 'false', 'null', 'NaN', 'Infinity', '-Infinity'];
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/**
 * Finds the first place where `text` stops being (lenient) JSON. Iterative, with an explicit
 * stack, so that deeply nested input cannot overflow the call stack.
 */
export function locateJsonError(text: string): { offset: number; message: string } {
  const stack: string[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const found = (): string => (i < text.length ? `found ${JSON.stringify(text[i])}` : 'found the end of the input');
  const fail = (what: string): { offset: number; message: string } => ({ offset: i, message: `${what}, ${found()}` });
  const scan = (pattern: RegExp): boolean => {
    pattern.lastIndex = i;
    if (!pattern.test(text)) return false;
    i = pattern.lastIndex;
    return true;
  };
  const readKey = (): { offset: number; message: string } | undefined => {
    skipSpace();
    if (!scan(STRING)) return fail('expected a quoted key');
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
      if (!scan(STRING)) return fail('unterminated or invalid string');
    } else if (!scan(NUMBER)) {
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
