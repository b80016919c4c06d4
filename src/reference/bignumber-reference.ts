import type { BigNumber } from 'mathjs';
import { FAR_LIMIT } from '../numeric/double-double-exp.js';
import { float64Parts } from '../numeric/float64-parts.js';
import { exactRationalSlice, isRationalSlice } from './exact-rational.js';
import { exactZeroGradients } from '../numeric/exact-zero-gradients.js';
import { gradientDefined, pivotIndex, undefinedSlice, type ReferenceSlice, type SliceTick } from './reference-slice.js';

/**
 * Significant digits the BigNumber engine works at: 64 first, far beyond float64's 17; more only
 * for a slice where some result lies too close to a rounding midpoint for 64 to decide.
 */
export const BIGNUMBER_PRECISIONS = [64, 256, 1024] as const;

/**
 * The same for the engines that take a logarithm: decimal.js's ln needs ln 10 to 12 digits beyond
 * the precision, and it carries 1025 of them (at 1024 digits, ln throws "Precision limit exceeded").
 */
export const LOG_BIGNUMBER_PRECISIONS = [64, 256, 1000] as const;

export type DecimalClass = new (value: string | number) => BigNumber;

/**
 * mathjs's BigNumber (a decimal.js class) at each precision, from mathjs's single-file bundle:
 * loaded only here (about 0.1 s, against 1 s for its module tree).
 */
export async function decimalClasses(precisions: readonly number[]): Promise<{ precision: number; Decimal: DecimalClass }[]> {
  const mathjs = (await import('mathjs/lib/browser/math.js')).default;
  // mathjs's BigNumber is a decimal.js class; its types do not list the class itself.
  const instance = mathjs.create(mathjs.all, { number: 'BigNumber' }) as unknown as {
    BigNumber: { clone(config: { precision: number }): DecimalClass };
  };
  return precisions.map((precision) => ({ precision, Decimal: instance.BigNumber.clone({ precision }) }));
}

/**
 * Loads the BigNumber engine: mathjs's BigNumber (decimal.js), with the pivot formulas of
 * `reference-slice.ts`. It is the judge of record and slow (about 0.2 ms per element), so it is
 * imported only when needed, and from mathjs's single-file bundle (about 0.1 s to load, against
 * 1 s for its module tree).
 *
 * Inputs enter exactly: a float64 is a dyadic rational m · 2^e, written out in full as decimal
 * (decimal.js keeps every digit it is given), never through its shortest decimal string, which
 * differs from the binary value by up to half an ulp. Results are rounded to float64 by
 * JavaScript's correctly rounded string-to-number conversion, after a check, from an error bound,
 * that the rounding is decided; if not, the slice is computed again with four times the digits.
 */
export async function loadBigNumberReference(
  /** Date.now() after which a slice gets no more digits (the caller then leaves the reference out). */
  deadline?: number,
): Promise<ReferenceSlice> {
  const classes = await decimalClasses(BIGNUMBER_PRECISIONS);

  return (x, g, softmax, grad, tick) => {
    if (undefinedSlice(x, g, softmax, grad)) return;
    if (isRationalSlice(x) && gradientDefined(g)) return exactRationalSlice(x, g, softmax, grad);
    // The last precision's answer stands even if undecided: a result within 1e-1000 of a midpoint.
    classes.some(({ precision, Decimal }) => sliceAt(Decimal, precision, x, g, softmax, grad, tick) || (deadline !== undefined && Date.now() > deadline));
  };
}

/** One slice at one precision; returns whether every rounding to float64 was decided. */
function sliceAt(Decimal: DecimalClass, precision: number, x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array, tick?: SliceTick): boolean {
  const big = (value: number): BigNumber => new Decimal(exactDecimal(value));
  const unit = 2 * 10 ** (1 - precision); // one rounding, with a margin
  const n = x.length;
  const p = pivotIndex(x);
  const top = big(x[p]);
  // A far logit (see isFarLogit) weighs nothing at these precisions: its exponential is below
  // 10^-(4.7e11), beyond decimal.js's range, and its results are zeros of known sign.
  const far = Array.from(x, (v) => isFarLogit(v, x[p]));
  // The exponentials are most of the work: told as the first half of the slice's elements.
  const e = Array.from(x, (v, j) => {
    if (tick !== undefined && (j & 255) === 255) tick(j / 2);
    return v === -Infinity || far[j] ? big(0) : j === p ? big(1) : big(v).minus(top).exp();
  });
  const total = e.reduce((sum, ej, j) => (j === p ? sum : sum.plus(ej)), big(1));
  const totalError = (n + 4) * unit;
  let certain = true;
  e.forEach((ej, i) => {
    const s = ej.div(total);
    softmax[i] = toNumber(s);
    certain &&= x[i] === -Infinity || roundsUniquely(s, 2 * totalError, Decimal);
  });
  if (!gradientDefined(g)) return certain;

  const gp = big(g[p]);
  const offsets = Array.from(g, (v) => big(v).minus(gp));
  let spread = big(0);
  let spreadMagnitude = big(0);
  e.forEach((ej, j) => {
    if (j === p) return;
    const term = ej.times(offsets[j]);
    spread = spread.plus(term);
    spreadMagnitude = spreadMagnitude.plus(term.abs());
  });
  const totalSquared = total.times(total);
  const numeratorError = (n + 8) * unit;
  const zeros = exactZeroGradients(x, g);
  e.forEach((ei, i) => {
    if (tick !== undefined && (i & 255) === 255) tick((n + i) / 2);
    if (x[i] === -Infinity || zeros?.[i] === 1) {
      grad[i] = 0;
      return;
    }
    const product = offsets[i].times(total);
    const numerator = product.minus(spread);
    const magnitude = product.abs().plus(spreadMagnitude);
    // Far weights alone move it from 0: 0 (reference-slice.ts).
    if (numerator.isZero() && far.some(Boolean)) {
      grad[i] = 0;
      return;
    }
    // Not 0 (exactZeroGradients found those): lost in the noise, it needs more digits.
    if (numerator.abs().lte(magnitude.times(4 * numeratorError))) certain = false;
    if (far[i]) {
      grad[i] = numerator.isNegative() ? -0 : 0;
      return;
    }
    const value = ei.times(numerator).div(totalSquared);
    grad[i] = toNumber(value);
    const error = magnitude.times(numeratorError).div(numerator.abs()).toNumber() + 3 * totalError;
    certain &&= roundsUniquely(value, error, Decimal);
  });
  return certain;
}

/**
 * Whether x_i − max lies below FAR_LIMIT (−2^40; −Infinity when the difference overflows, as for a
 * torch.finfo(dtype).min mask beside large logits): exp(x_i − max) < 2^(-1.58e12), which moves no
 * float64 result of its slice and leaves its own results zeros. Both engines treat these alike.
 */
export function isFarLogit(value: number, max: number): boolean {
  return value !== -Infinity && !(value - max >= FAR_LIMIT);
}

function toNumber(value: BigNumber): number {
  return Number(value.toString());
}

function roundsUniquely(value: BigNumber, relativeError: number, Decimal: DecimalClass): boolean {
  const slack = value.abs().times(new Decimal(relativeError * 1.001));
  return toNumber(value.minus(slack)) === toNumber(value.plus(slack));
}

/**
 * The exact decimal expansion of a finite float64: m · 2^e is m · 5^-e · 10^e for e < 0, so the
 * digits are those of the integer m · 5^-e. Up to 767 significant digits, all of them exact.
 *
 * @example exactDecimal(0.1) → '1000000000000000055511151231257827021181583404541015625e-55'
 */
export function exactDecimal(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const parts = float64Parts(value);
  const sign = parts.negative ? '-' : '';
  const { mantissa, exponent } = parts;
  if (exponent >= 0) return `${sign}${mantissa << BigInt(exponent)}`;
  let digits = `${mantissa * 5n ** BigInt(-exponent)}`;
  let power = exponent;
  while (power < 0 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    power++;
  }
  return power === 0 ? `${sign}${digits}` : `${sign}${digits}e${power}`;
}
