import { DTYPES, isDType, type DType, type Tolerance } from '../dtype.js';
import { describeValue, InputError } from '../input-error.js';
import { readFiniteNumber, readFraction, readTolerancePart } from '../input/input-document.js';
import { checkedMask } from '../input/mask-values.js';
import { tensorFromNested, valuesFromFlat, type NumberOptions } from '../input/nested-array.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import { isOp, OPS, type Op } from '../op.js';
import type { OpField } from '../ops/op-definition.js';
import { formatShape, MAX_RANK, type Tensor } from '../tensor.js';

/**
 * The library's arguments as JavaScript hands them over: anything at all. Each reader here takes
 * an `unknown`, checks it as the JSON documents are checked (unknown fields refused, every field
 * of its type), and throws InputError naming the field, with the value quoted, never a TypeError:
 * `null` for an object, a BigInt for a number, a getter that throws, a Proxy that refuses.
 */

/**
 * The fields of `value`, an object whose own keys must all be in `known`: each read once, so a
 * getter runs once and what was checked is what is used. `field` names the object in messages
 * (`options`, `expected`); `undefined` for the request itself, whose fields are named bare.
 */
export function readObject<K extends string>(value: unknown, field: string | undefined, known: readonly K[], wanted: string): Partial<Record<K, unknown>> {
  const name = field ?? 'the request';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`${name} must be an object ${wanted}, got ${describeValue(value)}`);
  }
  const keys = guarded(() => Object.keys(value), name);
  const unknown = keys.find((key) => !(known as readonly string[]).includes(key));
  if (unknown !== undefined) throw new InputError(`${name} has an unknown field ${describeValue(unknown)} (known: ${known.join(', ')})`);
  const fields: Partial<Record<K, unknown>> = {};
  for (const key of known) {
    const read = guarded(() => (value as Record<string, unknown>)[key], prefixed(field, key));
    if (read !== undefined) fields[key] = read;
  }
  return fields;
}

/** `field.key`, or `key` for the request's own fields. */
export function prefixed(field: string | undefined, key: string): string {
  return field === undefined ? key : `${field}.${key}`;
}

/** Runs `read` over a caller's value; what it throws (a getter's error, a revoked Proxy) becomes an InputError naming `field`. */
export function guarded<T>(read: () => T, field: string): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof InputError) throw error;
    const reason = guardedReason(error);
    throw new InputError(`${field} cannot be read: reading it throws ${reason}`);
  }
}

/** What a caller's code threw, quoted short: its message, or the value thrown. */
function guardedReason(error: unknown): string {
  try {
    return describeValue(error instanceof Error ? `${error.name}: ${error.message}` : error);
  } catch {
    return 'an error';
  }
}

export function readString(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  throw new InputError(`${field} must be a string, got ${describeValue(value)}`);
}

export function readBoolean(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new InputError(`${field} must be true or false, got ${describeValue(value)}`);
}

export function readInteger(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new InputError(`${field} must be an integer, got ${describeValue(value)}`);
}

export function readFunction<F>(value: unknown, field: string): F {
  if (typeof value === 'function') return value as F;
  throw new InputError(`${field} must be a function, got ${describeValue(value)}`);
}

export function readChoice<C extends string>(value: unknown, field: string, choices: readonly C[]): C {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as C;
  throw new InputError(`${field} must be one of ${choices.join(', ')}, got ${describeValue(value)}`);
}

export function readDType(value: unknown, field: string): DType {
  if (isDType(value)) return value;
  return readChoice(value, field, DTYPES);
}

export function readOp(value: unknown, field: string): Op {
  return isOp(value) ? value : readChoice(value, field, OPS);
}

/** `{ rtol, atol }`, both finite and ≥ 0, as a document's `tolerance`. */
export function readTolerance(value: unknown, field: string): Tolerance {
  const parts = readObject(value, field, ['rtol', 'atol'] as const, '{ rtol, atol }');
  const read = (key: 'rtol' | 'atol'): number => {
    if (parts[key] === undefined) throw new InputError(`${field}.${key} is missing: give both rtol and atol`);
    return readTolerancePart(parts[key], `${field}.${key}`);
  };
  return { rtol: read('rtol'), atol: read('atol') };
}

/** `{ compute?, accumulate? }`, each a dtype name. */
export function readArithmetic(value: unknown, field: string): ArithmeticTypes {
  const parts = readObject(value, field, ['compute', 'accumulate'] as const, '{ compute?, accumulate? }');
  return {
    ...(parts.compute === undefined ? {} : { compute: readDType(parts.compute, `${field}.compute`) }),
    ...(parts.accumulate === undefined ? {} : { accumulate: readDType(parts.accumulate, `${field}.accumulate`) }),
  };
}

/**
 * Values as a caller holds them: nested arrays of numbers, a typed array or any array-like (1-D),
 * or `{ shape, data }` with row-major flat data. Every value is checked as nested arrays are
 * (a number, or a string Python's float() reads).
 */
export function readValues(value: unknown, field: string, options: NumberOptions = {}): Tensor {
  return guarded(() => valuesOf(value, field, options), field);
}

/** A number (a reduced loss, its g, one sample's class) as a 0-d tensor; anything else as readValues reads it. */
export function readValuesOrNumber(value: unknown, field: string): Tensor {
  return typeof value === 'number' ? { shape: [], data: Float64Array.of(value) } : readValues(value, field);
}

function valuesOf(value: unknown, field: string, options: NumberOptions): Tensor {
  if (Array.isArray(value)) return tensorFromNested(value, field, options);
  if (isArrayLike(value)) {
    const data = valuesFromFlat(value, field, options);
    return { shape: [data.length], data };
  }
  if (typeof value === 'object' && value !== null && 'shape' in value) {
    const { shape, data } = readObject(value, field, ['shape', 'data'] as const, '{ shape, data }');
    if (!Array.isArray(shape) || shape.length === 0 || shape.length > MAX_RANK || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new InputError(`${field}.shape must be a list of 1 to ${MAX_RANK} whole numbers above 0, got ${describeValue(shape)}`);
    }
    if (!isArrayLike(data)) throw new InputError(`${field}.data must be an array or a typed array of numbers, got ${describeValue(data)}`);
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    if (data.length !== size) {
      throw new InputError(`${field} has ${data.length} values, but its shape ${formatShape(shape)} holds ${size}`);
    }
    return { shape: [...shape], data: valuesFromFlat(data, `${field}.data`, options) };
  }
  return tensorFromNested(value, field, options);
}

/** A typed array, or an object (not a string) with a whole-number length. */
function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  if (ArrayBuffer.isView(value)) return !(value instanceof DataView);
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const { length } = value as { length?: unknown };
  return typeof length === 'number' && Number.isSafeInteger(length) && length >= 0;
}

/** An op's field as a library caller gives it, read by its kind (the registry's). */
export function readOpField(field: OpField, value: unknown, name: string): Tensor | number | string | boolean {
  switch (field.kind.type) {
    case 'values':
      return field.kind.orNumber ? readValuesOrNumber(value, name) : readValues(value, name);
    case 'mask':
      return checkedMask(readValues(value, name, { booleans: true }), name);
    case 'boolean':
      return readBoolean(value, name);
    case 'number':
      return readFiniteNumber(value, name);
    case 'choice':
      return readChoice(value, name, field.kind.choices);
    case 'fraction':
      return readFraction(value, name);
    case 'integer':
      return readInteger(value, name);
  }
}
