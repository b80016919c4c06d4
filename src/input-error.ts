import { printable } from './output/printable.js';

/**
 * Something the user gave that the tool cannot use. Its message is the whole line the CLI prints
 * after `error: `, naming the field and, where there is one, the index.
 */
export class InputError extends Error {
  override readonly name: string = 'InputError';
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
    if (error instanceof InputError) throw new InputError(`${printable(label)}: ${error.message}`);
    throw error;
  }
}

/**
 * A value as it should appear quoted in an error message: short, on one line. JSON's quoting
 * escapes CR, LF and the other C0 controls; printable() the rest JSON leaves raw (C1 controls,
 * U+2028, bidirectional controls).
 */
export function describeValue(value: unknown): string {
  let text: string;
  if (value === undefined) text = 'undefined';
  else if (typeof value === 'number') text = String(value);
  else text = printable(JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * Text a user gave (a name, a path, a filter), quoted whole in an error message: in double quotes,
 * on one line, nothing in it that acts on a terminal or a CI log.
 */
export function quoted(text: string): string {
  return printable(JSON.stringify(text));
}
