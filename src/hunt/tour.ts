import type { DType } from '../dtype.js';
import { roundToDType } from '../numeric/round-dtype.js';
import { seededRandom, type Random } from '../numeric/random.js';
import { forEachSlice, sliceLayout } from '../numeric/slices.js';
import { opDefinition } from '../ops/index.js';
import type { Op } from '../op.js';
import { normaliseDim, type Tensor } from '../tensor.js';
import type { HuntCase } from './hunt-case.js';
import { GRADIENT_CLASSES, LOGIT_CLASSES, type GradientClass, type LogitClass } from './logit-classes.js';

/** What a hunt searches: the op, the dtype its kernel computes in, a fixed dim (else every dim), the seed. */
export interface HuntPlan {
  readonly op: Op;
  readonly dtype: DType;
  readonly dim?: number;
  readonly seed: number;
  /** Settings every case takes (a convention of the kernel's: what a fully masked row gives), by library name. */
  readonly fields?: Readonly<Record<string, string | number | boolean>>;
}

/** Widths off the block grid: 1 to 3, just off every power of two up to 2^17, and two vocabularies. */
export const TOUR_WIDTHS: readonly number[] = [
  1,
  2,
  3,
  ...Array.from({ length: 13 }, (_, k) => 2 ** (k + 5)).flatMap((power) => [power - 1, power + 1]),
  32000,
  50257,
];

/**
 * The cases of a hunt, in order: first a tour of every input class that exposed a bug in a shipped
 * kernel (each width of TOUR_WIDTHS; each kind of logits; each kind of g; dims other than the last;
 * each of the op's own variants), then random cases mixing them, without end. The same plan gives
 * the same cases.
 */
export function* huntCases(plan: HuntPlan): Generator<HuntCase> {
  const random = seededRandom(plan.seed);
  const plain = LOGIT_CLASSES[0];
  const steady = GRADIENT_CLASSES[0];
  for (const width of TOUR_WIDTHS) {
    yield makeCase(plan, random, shapeAlong(plan, width, width <= 4096 ? 3 : 1), plain, steady, 0, `width ${width}`);
  }
  for (const logits of LOGIT_CLASSES) {
    for (const width of [7, 33, 513]) yield makeCase(plan, random, shapeAlong(plan, width, 4), logits, steady, 0, logits.name);
  }
  for (const gradients of GRADIENT_CLASSES) yield makeCase(plan, random, shapeAlong(plan, 65, 3), plain, gradients, 0, gradients.name);
  const fixedDim = opDefinition(plan.op).hunt?.fixedDim === true;
  if (plan.dim === undefined && !fixedDim) {
    for (const [shape, axis] of [[[3, 5, 7], 0], [[3, 5, 7], 1], [[2, 3, 4, 5], 1], [[2, 3, 4, 5], 2]] as const) {
      yield makeCase(plan, random, { shape: [...shape], axis }, plain, steady, 0, `dim ${axis} of a ${shape.length}-D input`);
    }
  }
  const variants = opDefinition(plan.op).hunt?.variants ?? [];
  for (let v = 0; v < variants.length; v++) {
    for (const width of [5, 33]) yield makeCase(plan, random, shapeAlong(plan, width, 4), plain, steady, v, variants[v]);
  }
  for (;;) {
    const logits = random.pick(LOGIT_CLASSES);
    const gradients = random.pick(GRADIENT_CLASSES);
    const variant = variants.length === 0 ? 0 : random.int(0, variants.length - 1);
    const place = randomShape(plan, random);
    const name = [logits.name, variants.length === 0 ? undefined : variants[variant]].filter((part) => part !== undefined).join(', ');
    yield makeCase(plan, random, place, logits, gradients, variant, `random: ${name}`);
  }
}

interface Placement {
  readonly shape: number[];
  readonly axis: number;
}

/** `rows` slices of `width` along the plan's dim (the last, unless it fixes another). */
function shapeAlong(plan: HuntPlan, width: number, rows: number): Placement {
  if (plan.dim === undefined) return { shape: [rows, width], axis: 1 };
  const rank = Math.max(2, plan.dim >= 0 ? plan.dim + 1 : -plan.dim);
  const axis = normaliseDim(plan.dim, rank)!;
  const shape = Array.from({ length: rank }, (_, d) => (d === axis ? width : d === (axis === 0 ? 1 : 0) ? rows : 1));
  return { shape, axis };
}

/** A random shape of 1 to 4 dims (up to 6 along each other dim, 8193 along the op's), and a dim of it. */
function randomShape(plan: HuntPlan, random: Random): Placement {
  const width = random.chance(0.3) ? random.pick(TOUR_WIDTHS.filter((w) => w <= 8193)) : random.int(1, 300);
  if (plan.dim !== undefined) return shapeAlong(plan, width, random.int(1, 8));
  const rank = random.int(1, 4);
  const shape = Array.from({ length: rank }, () => random.int(1, 6));
  const axis = opDefinition(plan.op).hunt?.fixedDim === true ? opDefinition(plan.op).defaultDim(rank) : random.int(0, rank - 1);
  shape[axis] = width;
  return { shape, axis };
}

function makeCase(plan: HuntPlan, random: Random, place: Placement, logits: LogitClass, gradients: GradientClass, variant: number, klass: string): HuntCase {
  const { shape, axis } = place;
  const round = (value: number) => roundToDType(value, plan.dtype);
  const layout = sliceLayout(shape, axis);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(count);
  forEachSlice(layout, [], [data], (_, [out]) => logits.fill(out, random, plan.dtype));
  let x: Tensor = { shape, data: data.map(round) };
  const own = opDefinition(plan.op).hunt?.fields(random, x, axis, round, variant);
  if (own?.x !== undefined) x = own.x;
  let g = own?.g;
  if (g === undefined) {
    const values = new Float64Array(count);
    forEachSlice(layout, [], [values], (_, [out], k) => gradients.fill(out, random, k));
    g = { shape, data: values.map(round) };
  }
  const dim = plan.dim ?? (axis === shape.length - 1 ? -1 : axis);
  return { op: plan.op, dtype: plan.dtype, dim, x, g, fields: { ...own?.fields, ...plan.fields }, klass };
}
