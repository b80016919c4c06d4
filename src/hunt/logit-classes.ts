import type { DType } from '../dtype.js';
import type { Random } from '../numeric/random.js';

/**
 * The kinds of logits that exposed bugs in shipped softmax kernels (KERNEL-BUGS.md, "Input classes
 * that exposed them"), one slice at a time: each fills `out` (a slice of n values, already laid
 * out contiguously) before the values are rounded to the dtype.
 */
export interface LogitClass {
  readonly name: string;
  fill(out: Float64Array, random: Random, dtype: DType): void;
}

/** Where exp overflows in each dtype's compute: a logit near it, unshifted, is inf. */
const EXP_OVERFLOW: Readonly<Record<DType, number>> = { float64: 709, float32: 88, bfloat16: 88, float16: 11 };

const normal = (out: Float64Array, random: Random, spread: number, offset = 0) => {
  for (let j = 0; j < out.length; j++) out[j] = offset + spread * random.normal();
};

export const LOGIT_CLASSES: readonly LogitClass[] = [
  { name: 'random logits', fill: (out, random) => normal(out, random, random.pick([1, 3, 8])) },
  { name: 'flat rows', fill: (out, random) => out.fill(random.pick([0, 1.5, -7])) },
  {
    name: 'confident rows (one logit = max + 10)',
    fill: (out, random) => {
      normal(out, random, 1);
      out[random.int(0, out.length - 1)] = Math.max(...out) + 10;
    },
  },
  { name: 'large common offset', fill: (out, random) => normal(out, random, 2, random.pick([1e4, -1e4, 1e6, 1e8])) },
  {
    name: 'logits near exp overflow',
    fill: (out, random, dtype) => {
      for (let j = 0; j < out.length; j++) out[j] = EXP_OVERFLOW[dtype] - 4 * random.next();
    },
  },
  { name: 'huge spread', fill: (out, random, dtype) => normal(out, random, dtype === 'float16' ? 3000 : 1e4) },
  {
    name: '-inf masks (some)',
    fill: (out, random) => {
      normal(out, random, 3);
      const kept = random.int(0, out.length - 1);
      for (let j = 0; j < out.length; j++) if (j !== kept && random.chance(0.3)) out[j] = -Infinity;
    },
  },
  {
    name: '-inf masks (all but one)',
    fill: (out, random) => {
      out.fill(-Infinity);
      out[random.int(0, out.length - 1)] = 3 * random.normal();
    },
  },
  { name: '-inf masks (whole rows)', fill: (out) => out.fill(-Infinity) },
  {
    name: 'NaN and +inf logits',
    fill: (out, random) => {
      normal(out, random, 3);
      out[random.int(0, out.length - 1)] = random.chance(0.5) ? NaN : Infinity;
    },
  },
];

/** The upstream gradients that hide no bug: non-uniform, with a mean far from 0, zeros in places. */
export interface GradientClass {
  readonly name: string;
  fill(out: Float64Array, random: Random, slice: number): void;
}

export const GRADIENT_CLASSES: readonly GradientClass[] = [
  {
    name: 'non-uniform g, mean far from 0',
    fill: (out, random) => {
      const mean = random.pick([1, 3, -2]);
      for (let j = 0; j < out.length; j++) out[j] = mean + random.normal();
    },
  },
  {
    name: 'g with zeros',
    fill: (out, random) => {
      for (let j = 0; j < out.length; j++) out[j] = random.chance(0.4) ? 0 : random.normal() + 1;
    },
  },
  {
    name: 'g zero in the first slice',
    fill: (out, random, slice) => {
      for (let j = 0; j < out.length; j++) out[j] = slice === 0 ? 0 : random.normal() + 1;
    },
  },
];
