import { DEFAULT_OP } from '../ops/op-definition.js';
import type { DType, Tolerance } from '../dtype.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import { FIXTURE_FORMAT } from '../input/input-document.js';
import { toNested } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import { RawJson, writeJson } from './json-text.js';
import { FORWARD_NAME, type Op } from '../op.js';
import type { OpSpec, WrittenField } from '../ops/op-definition.js';
import { opDefinition } from '../ops/index.js';

export interface FixtureV1 {
  /** Absent for softmax: fixtures of softmax do not name it. */
  readonly op?: Op;
  readonly name: string;
  readonly description?: string;
  readonly source: string;
  readonly dtype: DType;
  readonly dim: number;
  readonly tolerance?: Tolerance;
  readonly arithmetic?: ArithmeticTypes;
  readonly x: Tensor;
  /** Absent for a forward-only fixture (softmax, log_softmax with no g). */
  readonly g?: Tensor;
  readonly expected: { readonly forward?: Float64Array; readonly grad?: Float64Array };
  /** The op's own fields (cross_entropy's target and settings, …). */
  readonly spec?: OpSpec;
  /** The forward output's shape where it is not x's (a loss's). */
  readonly forwardShape?: readonly number[];
}

/**
 * A fixture v1 file's text, written so that it reads back exactly and loads in Python as
 * `json.dump` would have written it:
 * - every finite float64 in its shortest round-trip form, with `.0` on integral values so that
 *   Python reads a float (`torch.tensor` of `[1, 2]` would be int64) and `-0.0` keeps its sign;
 * - non-finite values as Python's bare tokens `NaN`, `Infinity`, `-Infinity`.
 */
export function fixtureToJson(fixture: FixtureV1): string {
  const nested = (data: Float64Array): unknown[] => toNested(data, fixture.x.shape, (v) => new RawJson(pythonFloat(v)));
  // A scalar (a reduced loss, its g, one sample's target) as one number; an index target as integers.
  const shaped = (data: ArrayLike<number>, shape: readonly number[], write: (v: number) => string = pythonFloat): unknown =>
    shape.length === 0 ? new RawJson(write(data[0])) : toNested(data, shape, (v) => new RawJson(write(v)));
  const op = fixture.op ?? DEFAULT_OP;
  const fields = fixture.spec === undefined ? [] : (opDefinition(op).fieldsOut?.written(fixture.spec) ?? []);
  const written = (field: WrittenField): unknown => {
    const { value } = field;
    if (typeof value === 'string' || typeof value === 'boolean') return value;
    const write = field.as === 'integers' ? String : field.as === 'booleans' ? (v: number) => String(v !== 0) : pythonFloat;
    return typeof value === 'number' ? new RawJson(write(value)) : shaped(value.data, value.shape, write);
  };
  const forwardShape = fixture.forwardShape ?? fixture.x.shape;
  const document = {
    format: FIXTURE_FORMAT,
    name: fixture.name,
    op: fixture.op === DEFAULT_OP ? undefined : fixture.op,
    description: fixture.description,
    source: fixture.source,
    dtype: fixture.dtype,
    dim: fixture.dim,
    tolerance: fixture.tolerance && {
      rtol: new RawJson(pythonFloat(fixture.tolerance.rtol)),
      atol: new RawJson(pythonFloat(fixture.tolerance.atol)),
    },
    arithmetic: fixture.arithmetic,
    x: nested(fixture.x.data),
    g: fixture.g === undefined ? undefined : shaped(fixture.g.data, fixture.g.shape),
    ...Object.fromEntries(fields.map((field) => [field.key, written(field)])),
    expected: {
      [FORWARD_NAME[op]]: fixture.expected.forward && shaped(fixture.expected.forward, forwardShape),
      grad: fixture.expected.grad && nested(fixture.expected.grad),
    },
  };
  return `${writeJson(document)}\n`;
}

/** A float64 as Python's `json.dumps` spells it (`repr`), which JavaScript reads back bit for bit. */
export function pythonFloat(value: number): string {
  if (value !== value) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (Object.is(value, -0)) return '-0.0';
  const text = JSON.stringify(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}
