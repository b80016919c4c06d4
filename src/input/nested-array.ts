import { MAX_RANK, type Tensor } from '../tensor.js';
import { describeValue, InputError } from '../input-error.js';
import { parseNumberToken } from './number-token.js';

/**
 * Turns parsed JSON (nested arrays of numbers) into a Tensor, or says precisely what is wrong:
 * `x[1][3] is not a number: "abc"`, `x[2] has 3 elements, but x[0] has 4 (ragged array)`.
 *
 * Elements may be numbers or the strings Python's `float()` reads (`"nan"`, `"-inf"`, ...): the
 * lenient JSON reader hands bare `NaN`/`Infinity` tokens over as such strings.
 */
export function tensorFromNested(value: unknown, field: string, options: NumberOptions = {}): Tensor {
  if (!Array.isArray(value)) {
    throw new InputError(`${field} must be an array of numbers, got ${describeValue(value)}`);
  }
  const shape = discoverShape(value, field);
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 0) throw new InputError(`${field} is empty (shape [${shape.join(', ')}])`);
  const data = new Float64Array(size);
  const path: number[] = [];
  let offset = 0;

  const fill = (array: unknown[], depth: number): void => {
    const expected = shape[depth];
    if (array.length !== expected) {
      const first = `${field}${path.map(() => '[0]').join('')}`;
      throw new InputError(
        `${at(field, path)} has ${array.length} element${array.length === 1 ? '' : 's'}, but ${first} has ${expected} (ragged array)`,
      );
    }
    const leaf = depth === shape.length - 1;
    for (let i = 0; i < array.length; i++) {
      const item = array[i];
      path.push(i);
      if (leaf) {
        data[offset++] = readNumber(item, field, path, options);
      } else if (Array.isArray(item)) {
        fill(item, depth + 1);
      } else {
        throw new InputError(
          `${at(field, path)} is ${describeKind(item)} where an array was expected (ragged nesting)`,
        );
      }
      path.pop();
    }
  };
  fill(value, 0);
  return { shape, data };
}

function discoverShape(value: unknown[], field: string): number[] {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    if (shape.length === MAX_RANK) {
      throw new InputError(`${field} is nested more than ${MAX_RANK} levels deep`);
    }
    shape.push(probe.length);
    probe = probe[0];
  }
  return shape;
}

/**
 * The values of a flat array-like (a typed array, or an object with a length) as float64, each
 * checked as nested arrays' are. Read in place, not copied to an array first: a typed array is
 * converted without boxing each value, and an object claiming 3·10^8 elements fails at its first
 * missing one, not after allocating for all.
 */
export function valuesFromFlat(values: ArrayLike<unknown>, field: string, options: NumberOptions = {}): Float64Array {
  if (values.length === 0) throw new InputError(`${field} is empty (shape [0])`);
  const bigInts = values instanceof BigInt64Array || values instanceof BigUint64Array;
  if (ArrayBuffer.isView(values) && !bigInts) return Float64Array.from(values as ArrayLike<number>);
  const read: number[] = [];
  const path = [0];
  for (let i = 0; i < values.length; i++) {
    path[0] = i;
    read.push(readNumber(values[i], field, path, options));
  }
  return Float64Array.from(read);
}

/** What an element may be beside a number: a mask's true and false (1 and 0). */
export interface NumberOptions {
  readonly booleans?: boolean;
}

function readNumber(item: unknown, field: string, path: number[], options: NumberOptions): number {
  if (typeof item === 'number') return item;
  if (options.booleans && typeof item === 'boolean') return item ? 1 : 0;
  if (typeof item === 'string') {
    const parsed = parseNumberToken(item.trim());
    if (parsed !== undefined) return parsed;
  }
  if (Array.isArray(item)) {
    throw new InputError(`${at(field, path)} is an array where a number was expected (ragged nesting)`);
  }
  if (item === null) {
    throw new InputError(`${at(field, path)} is null, not a number (write NaN as NaN or "nan")`);
  }
  throw new InputError(`${at(field, path)} is not a ${options.booleans ? 'boolean' : 'number'}: ${describeValue(item)}`);
}

function describeKind(item: unknown): string {
  if (item === null) return 'null';
  if (typeof item === 'number' || typeof item === 'string') return `${describeValue(item)}`;
  return `a${typeof item === 'object' ? 'n object' : ` ${typeof item}`}`;
}

function at(field: string, path: readonly number[]): string {
  return field + path.map((i) => `[${i}]`).join('');
}
