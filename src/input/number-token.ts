import { describeValue, InputError } from '../input-error.js';

/**
 * Reads one number written as text, the way Python's `float()` reads it: a decimal literal, or
 * `nan`, `inf`, `infinity` in any case with an optional sign. Anything else (hex, `1e`, empty,
 * trailing junk) is not a number, so that a typo is reported rather than read as something else.
 *
 * The pattern has one way to match each prefix (the digits before the point are `\d+` once, the
 * point and its digits one optional group), so a failing token of n digits costs O(n), not the
 * O(n²) of `\d+\.?\d*`, whose two runs of digits split a point-less token n ways.
 */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^([+-]?)(nan|inf|infinity)$/i;

export function parseNumberToken(token: string): number | undefined {
  if (DECIMAL.test(token)) return Number(token);
  const match = NON_FINITE.exec(token);
  if (match === null) return undefined;
  if (match[2].toLowerCase() === 'nan') return NaN;
  return match[1] === '-' ? -Infinity : Infinity;
}

/** A whole number written as text (`--dim -1`, a dump's metadata `"dim": "0"`), or an InputError naming `field`. */
export function readIntegerText(text: string, field: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) throw new InputError(`${field} must be an integer, got ${describeValue(text)}`);
  return Number(text);
}
