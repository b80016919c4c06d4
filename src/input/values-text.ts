import type { Tensor } from '../tensor.js';
import { describeValue, InputError } from '../input-error.js';
import { fieldOfKeys, MAX_JSON_DEPTH, parseLenientJson } from './lenient-json.js';
import { tensorFromNested, type NumberOptions } from './nested-array.js';
import { parseNumberToken } from './number-token.js';

/**
 * Reads the values given on the command line for `--x` or `--g`: a JSON array (nested for N-D,
 * Python's bare NaN/Infinity allowed) when it starts with `[`, else a flat list separated by
 * commas or white space (`1,2,3`, `1 2 3`, `1, 2, -inf`).
 */
export function tensorFromValuesText(text: string, field: string, options: NumberOptions = {}): Tensor {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const parsed = parseLenientJson(trimmed);
    if (!parsed.ok && parsed.kind === 'depth') {
      const inner = parsed.keys.length === 0 ? '' : ` (at ${fieldOfKeys(parsed.keys)})`;
      throw new InputError(`${field} is nested more than ${MAX_JSON_DEPTH} levels deep${inner}, at column ${parsed.column}: JSON input nests at most ${MAX_JSON_DEPTH} levels`);
    }
    if (!parsed.ok) {
      throw new InputError(`${field} is not valid JSON at column ${parsed.column}: ${parsed.message}`);
    }
    return tensorFromNested(parsed.value, field, options);
  }
  if (trimmed === '') throw new InputError(`${field} is empty`);
  const tokens = trimmed.split(/\s*,\s*|\s+/);
  // One trailing comma is forgiven; two separators in a row mean a value went missing.
  if (tokens.length > 1 && tokens[tokens.length - 1] === '') tokens.pop();
  const data = new Float64Array(tokens.length);
  tokens.forEach((token, i) => {
    if (token === '') throw new InputError(`${field}[${i}] is missing: two separators in a row`);
    const value = options.booleans ? (BOOLEAN_TOKENS.get(token) ?? parseNumberToken(token)) : parseNumberToken(token);
    if (value === undefined) throw new InputError(`${field}[${i}] is not a ${options.booleans ? 'boolean' : 'number'}: ${describeValue(token)}`);
    data[i] = value;
  });
  return { shape: [tokens.length], data };
}

/** A mask's words in a flat list: JSON's and Python's. */
const BOOLEAN_TOKENS: ReadonlyMap<string, number> = new Map([
  ['true', 1],
  ['false', 0],
  ['True', 1],
  ['False', 0],
]);
