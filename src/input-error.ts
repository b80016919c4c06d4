import { printable } from './printable.js';

/**
 * Something the user gave that the tool cannot use. Its message is the whole line the CLI prints
 * after `error: `, naming the field and, where there is one, the index.
 */
export class InputError extends Error {
  override readonly name: string = 'InputError';

  /** The same error said otherwise (prefixed with where the input came from, in a caller's words): a subclass keeps its data. */
  withMessage(message: string): InputError {
    return new InputError(message);
  }
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: InputError };

/** Runs parsing code that throws InputError and hands the outcome back as a value. */
export async function captureInputError<T>(parse: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await parse() };
  } catch (error) {
    if (error instanceof InputError) return { ok: false, error };
    throw error;
  }
}

/** Prefixes any input error raised by `work` with where the input came from (a path, `stdin`), made printable. */
export function withInputLabel<T>(label: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof InputError) throw error.withMessage(`${printable(label)}: ${error.message}`);
    throw error;
  }
}

/** The longest a quoted value is in a message; longer ones are cut short with `...`. */
const QUOTED_LENGTH = 40;

/**
 * A value as it should appear quoted in an error message: short, on one line, as JSON writes it
 * (a number as JavaScript does). The work is bounded by the length shown, not the value's size:
 * a value may be a string of millions of characters, nested thousands deep, cyclic, or (from a
 * library caller) hold a BigInt or a getter that throws, and describing it must not fail.
 */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    // printable() too: JSON's quoting leaves C1 controls, U+2028 and bidirectional controls raw.
    text = value === undefined ? 'undefined' : typeof value === 'number' ? String(value) : printable(boundedJson(value, QUOTED_LENGTH + 1));
  } catch {
    text = 'a value that cannot be read';
  }
  // Cut short, but never inside an escape printable() wrote.
  return text.length > QUOTED_LENGTH ? `${text.slice(0, QUOTED_LENGTH - 3).replace(/\\u[0-9a-f]{0,3}$/, '')}...` : text;
}

/** JSON.stringify's text of `value`, written only until it is longer than `limit` characters. */
function boundedJson(value: unknown, limit: number): string {
  let text = '';
  const write = (item: unknown, inArray: boolean): void => {
    if (text.length > limit) return;
    switch (typeof item) {
      case 'string':
        text += JSON.stringify(item.length > limit ? item.slice(0, limit) : item);
        return;
      case 'number':
        text += Number.isFinite(item) ? String(item) : 'null';
        return;
      case 'boolean':
        text += String(item);
        return;
      case 'bigint':
        text += `${item}n`;
        return;
      case 'undefined':
      case 'function':
      case 'symbol':
        text += inArray ? 'null' : typeof item === 'function' ? 'a function' : String(item);
        return;
    }
    if (item === null) {
      text += 'null';
    } else if (Array.isArray(item)) {
      text += '[';
      for (let i = 0; i < item.length && text.length <= limit; i++) {
        if (i > 0) text += ',';
        write(item[i], true);
      }
      text += ']';
    } else {
      text += '{';
      let first = true;
      for (const key in item) {
        if (text.length > limit) break;
        if (!Object.hasOwn(item, key)) continue;
        const field = (item as Record<string, unknown>)[key];
        if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue;
        text += `${first ? '' : ','}${JSON.stringify(key.length > limit ? key.slice(0, limit) : key)}:`;
        first = false;
        write(field, false);
      }
      text += '}';
    }
  };
  write(value, false);
  return text;
}

/**
 * Text a user gave (a name, a path, a filter), quoted whole in an error message: in double quotes,
 * on one line, nothing in it that acts on a terminal or a CI log.
 */
export function quoted(text: string): string {
  return printable(JSON.stringify(text));
}
