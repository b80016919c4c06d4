import { DTYPES, dtypeNamed, isDType, type DType, type Tolerance } from '../dtype.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import { formatShape, sameShape, type Tensor } from '../tensor.js';
import { describeValue, InputError } from '../input-error.js';
import { FORWARD_NAME, isOp, OPS, perElementForward, type Op } from '../op.js';
import type { Reduction } from '../ops/cross_entropy/cross-entropy-spec.js';
import { libraryName, OP_FIELDS, opDefinition } from '../ops/index.js';
import { DEFAULT_OP, type OpField } from '../ops/op-definition.js';
import { fieldOfKeys, MAX_JSON_DEPTH, parseLenientJson } from './lenient-json.js';
import { parseNumberToken } from './number-token.js';
import { tensorFromNested, type NumberOptions } from './nested-array.js';
import { checkedMask } from './mask-values.js';

export const FIXTURE_FORMAT = 'softmax-verify.fixture/v1';

/**
 * The fields of an `--input` document. A plain input has `x`, `g` and optionally `dim`, `dtype`;
 * a fixture (one with `format`) must carry the fixture v1 fields as well.
 */
export interface InputDocument {
  /** The operation verified; softmax when absent. */
  readonly op?: Op;
  readonly name?: string;
  readonly description?: string;
  readonly source?: string;
  readonly dtype?: DType;
  readonly dim?: number;
  readonly x?: Tensor;
  readonly g?: Tensor;
  readonly expected?: { readonly forward?: Float64Array; readonly grad?: Float64Array };
  /** The dtypes the expected values were stored in, when read from binary files (see Tensor.stored). */
  readonly expectedStored?: { readonly forward?: DType; readonly grad?: DType };
  readonly tolerance?: Tolerance;
  /** The arithmetic of the kernel the expected values came from, where it is not PyTorch's usual (--compute, --accumulate). */
  readonly arithmetic?: ArithmeticTypes;
  /** cross_entropy's fields, as written (checked against x in resolve-input.ts). */
  readonly target?: Tensor;
  readonly reduction?: Reduction;
  readonly labelSmoothing?: number;
  readonly ignoreIndex?: number;
  readonly weight?: Tensor;
}

/** Every field a document may have: the common ones, and each op's own (the registry's, in PyTorch's spelling). */
const KNOWN_FIELDS = ['format', 'name', 'description', 'source', 'dtype', 'dim', 'x', 'g', 'expected', 'tolerance', 'arithmetic', 'op', ...new Set(OP_FIELDS.map((field) => field.key))];
const FIXTURE_REQUIRED = ['name', 'source', 'dtype', 'dim', 'x', 'expected'];

/**
 * Parses and checks an input document. Unknown fields are refused rather than ignored: a
 * misspelt `tolerance` silently falling back to the default would make a verdict mean less
 * than the user thinks. Keys are only ever read as own properties, so `__proto__` and friends
 * are just unknown fields.
 */
export interface DocumentOptions {
  /** Refuse a document without `format` (check reads only fixtures). */
  readonly requireFixture?: boolean;
  /**
   * Reads an array field given as the name of a .npy file, relative to the document's folder.
   * Absent when the document has no folder (stdin): such names are then an error.
   */
  readonly loadNpy?: (relativePath: string, field: string) => Tensor;
}

export function parseInputDocument(text: string, options: DocumentOptions = {}): InputDocument {
  const parsed = parseLenientJson(text);
  if (!parsed.ok && parsed.kind === 'depth') {
    const field = parsed.keys.length === 0 ? 'the document' : fieldOfKeys(parsed.keys);
    throw new InputError(`${field} is nested more than ${MAX_JSON_DEPTH} levels deep (line ${parsed.line}, column ${parsed.column}): JSON input nests at most ${MAX_JSON_DEPTH} levels`);
  }
  if (!parsed.ok) {
    throw new InputError(`invalid JSON at line ${parsed.line}, column ${parsed.column}: ${parsed.message}`);
  }
  const doc = parsed.value;
  if (!isPlainObject(doc)) {
    throw new InputError(`expected a JSON object with fields "x" and "g", got ${kindOf(doc)}`);
  }
  const unknown = Object.keys(doc).find((key) => !KNOWN_FIELDS.includes(key));
  if (unknown !== undefined) {
    throw new InputError(`unknown field ${describeValue(unknown)} (known fields: ${KNOWN_FIELDS.join(', ')})`);
  }
  if (options.requireFixture && !Object.hasOwn(doc, 'format')) {
    throw new InputError(`format is missing: a fixture must have "format": ${JSON.stringify(FIXTURE_FORMAT)}`);
  }
  if (Object.hasOwn(doc, 'format')) {
    if (doc.format !== FIXTURE_FORMAT) {
      throw new InputError(`format is ${describeValue(doc.format)}, but this version reads ${JSON.stringify(FIXTURE_FORMAT)}`);
    }
    const missing = FIXTURE_REQUIRED.find((key) => !Object.hasOwn(doc, key));
    if (missing !== undefined) throw new InputError(`${missing} is missing: a ${FIXTURE_FORMAT} fixture must have it`);
  }

  const tensor = (value: unknown, field: string, numbers: NumberOptions = {}): Tensor => {
    if (typeof value !== 'string' || !/\.npy$/i.test(value)) return tensorFromNested(value, field, numbers);
    if (options.loadNpy === undefined) throw new InputError(`${field} names a .npy file, which is read only from a document on disk, not stdin`);
    return options.loadNpy(value, field);
  };
  const op = optional(doc, 'op', readOp);
  const own = opDefinition(op).fields;
  const misplaced = OP_FIELDS.find((field) => !own.some((mine) => mine.key === field.key) && Object.hasOwn(doc, field.key));
  if (misplaced !== undefined) throw new InputError(`${misplaced.key} is a field of op ${misplaced.op}: add "op": "${misplaced.op}", or leave it out`);
  // A loss's g and target may be single numbers (a loss reduced to one number; one sample's class).
  const tensorOrNumber = (v: unknown, field: string): Tensor => {
    // The lenient reader hands Python's bare NaN and Infinity over as strings.
    const number = typeof v === 'number' ? v : typeof v === 'string' ? parseNumberToken(v) : undefined;
    return !opDefinition(op).forwardPerElement && number !== undefined ? { shape: [], data: Float64Array.of(number) } : tensor(v, field);
  };
  const readField = (field: OpField, value: unknown): Tensor | number | string | boolean => {
    switch (field.kind.type) {
      case 'values':
        return field.kind.orNumber ? tensorOrNumber(value, field.key) : tensor(value, field.key);
      case 'mask':
        return checkedMask(tensor(value, field.key, { booleans: true }), field.key);
      case 'boolean':
        if (typeof value === 'boolean') return value;
        throw new InputError(`${field.key} must be true or false, got ${describeValue(value)}`);
      case 'number':
        return readFiniteNumber(value, field.key);
      case 'choice':
        return readChoiceField(value, field.key, field.kind.choices);
      case 'fraction':
        return readFraction(value, field.key);
      case 'integer':
        return readInteger(value, field.key);
    }
  };
  const x = optional(doc, 'x', (v) => tensor(v, 'x'));
  const g = optional(doc, 'g', (v) => tensorOrNumber(v, 'g'));
  return {
    op,
    ...Object.fromEntries(own.filter((field) => Object.hasOwn(doc, field.key)).map((field) => [libraryName(field), readField(field, doc[field.key])])),
    name: optional(doc, 'name', (v) => readString(v, 'name')),
    description: optional(doc, 'description', (v) => readString(v, 'description')),
    source: optional(doc, 'source', (v) => readString(v, 'source')),
    dtype: optional(doc, 'dtype', (v) => readDType(v, 'dtype')),
    dim: optional(doc, 'dim', (v) => readInteger(v, 'dim')),
    x,
    g,
    ...optional(doc, 'expected', (v) => readExpected(v, x, tensorOrNumber, op ?? DEFAULT_OP)),
    tolerance: optional(doc, 'tolerance', readTolerance),
    arithmetic: optional(doc, 'arithmetic', readArithmeticField),
  };
}

/** A document's `dtype`: one of the four names exactly, as the fixture schema has them. */
export function readDType(value: unknown, field: string): DType {
  if (isDType(value)) return value;
  throw new InputError(`${field} must be one of ${DTYPES.join(', ')}, got ${describeValue(value)}`);
}

/** `--dtype`, `--compute`, `--accumulate`: the four names, or the short ones users type (bf16, fp32, half, …). */
export function readDTypeFlag(text: string, flag: string): DType {
  const named = dtypeNamed(text.trim());
  if (named !== undefined) return named;
  throw new InputError(`${flag} must be one of ${DTYPES.join(', ')} (or fp32, bf16, half, …), got ${describeValue(text)}`);
}

function optional<T>(doc: Record<string, unknown>, key: string, read: (value: unknown) => T): T | undefined {
  return Object.hasOwn(doc, key) ? read(doc[key]) : undefined;
}

function readChoiceField(value: unknown, field: string, choices: readonly string[]): string {
  if (typeof value === 'string' && choices.includes(value)) return value;
  throw new InputError(`${field} must be one of ${choices.join(', ')}, got ${describeValue(value)}`);
}

/** A finite number (a scale). */
export function readFiniteNumber(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new InputError(`${field} must be a finite number, got ${describeValue(value)}`);
}

/** A number from 0 to 1 (label_smoothing, as PyTorch requires). */
export function readFraction(value: unknown, field: string): number {
  if (typeof value === 'number' && value >= 0 && value <= 1) return value;
  throw new InputError(`${field} must be a number from 0 to 1, got ${describeValue(value)}`);
}

function readString(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  throw new InputError(`${field} must be a string, got ${describeValue(value)}`);
}

function readInteger(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw new InputError(`${field} must be an integer, got ${describeValue(value)}`);
}

function readExpected(
  value: unknown,
  x: Tensor | undefined,
  tensor: (value: unknown, field: string) => Tensor,
  op: Op,
): Pick<InputDocument, 'expected' | 'expectedStored'> {
  const forwardName = FORWARD_NAME[op];
  if (!isPlainObject(value)) throw new InputError(`expected must be an object with "${forwardName}" and/or "grad", got ${kindOf(value)}`);
  const unknown = Object.keys(value).find((key) => key !== forwardName && key !== 'grad');
  if (unknown !== undefined) {
    const otherOp = OPS.find((other) => FORWARD_NAME[other] === unknown);
    const hint = otherOp === undefined ? '' : `; "${unknown}" is what op ${otherOp} expects${op === DEFAULT_OP ? ': add "op": "' + otherOp + '"' : ''}`;
    throw new InputError(`expected has an unknown field ${describeValue(unknown)} (known: ${forwardName}, grad)${hint}`);
  }
  if (!Object.hasOwn(value, forwardName) && !Object.hasOwn(value, 'grad')) {
    throw new InputError(`expected must have "${forwardName}", "grad" or both`);
  }
  const read = (key: string): Tensor | undefined =>
    optional(value, key, (v) => {
      const field = `expected.${key}`;
      const read = tensor(v, field);
      // A loss has its own shape (checked against the reduction in resolve-input.ts).
      if (x !== undefined && perElementForward(key) && !sameShape(read.shape, x.shape)) {
        throw new InputError(`${field} has shape ${formatShape(read.shape)}, but x has shape ${formatShape(x.shape)}`);
      }
      return read;
    });
  const forward = read(forwardName);
  const grad = read('grad');
  return {
    expected: { forward: forward?.data, grad: grad?.data },
    expectedStored: { forward: forward?.stored, grad: grad?.stored },
  };
}

/** A document's `op`; cross_entropy's fields are not read by this version yet. */
function readOp(value: unknown): Op {
  if (!isOp(value)) throw new InputError(`op must be one of ${OPS.join(', ')}, got ${describeValue(value)}`);
  return value;
}

/** A document's `arithmetic`: `{"compute"?, "accumulate"?}`, each one of the four dtype names. */
function readArithmeticField(value: unknown): ArithmeticTypes {
  if (!isPlainObject(value)) throw new InputError(`arithmetic must be an object {"compute"?: …, "accumulate"?: …}, got ${kindOf(value)}`);
  const unknown = Object.keys(value).find((key) => key !== 'compute' && key !== 'accumulate');
  if (unknown !== undefined) throw new InputError(`arithmetic has an unknown field ${describeValue(unknown)} (known: compute, accumulate)`);
  return {
    ...(Object.hasOwn(value, 'compute') ? { compute: readDType(value.compute, 'arithmetic.compute') } : {}),
    ...(Object.hasOwn(value, 'accumulate') ? { accumulate: readDType(value.accumulate, 'arithmetic.accumulate') } : {}),
  };
}

function readTolerance(value: unknown): Tolerance {
  if (!isPlainObject(value)) throw new InputError(`tolerance must be an object {"rtol": …, "atol": …}, got ${kindOf(value)}`);
  const unknown = Object.keys(value).find((key) => key !== 'rtol' && key !== 'atol');
  if (unknown !== undefined) throw new InputError(`tolerance has an unknown field ${describeValue(unknown)} (known: rtol, atol)`);
  const read = (key: 'rtol' | 'atol'): number => {
    if (!Object.hasOwn(value, key)) throw new InputError(`tolerance.${key} is missing: give both rtol and atol`);
    return readTolerancePart(value[key], `tolerance.${key}`);
  };
  return { rtol: read('rtol'), atol: read('atol') };
}

export function readTolerancePart(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw new InputError(`${field} must be a finite number ≥ 0, got ${describeValue(value)}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${describeValue(value)}`;
}
