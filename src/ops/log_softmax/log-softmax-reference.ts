import type { BigNumber } from 'mathjs';
import { accurateLogSoftmaxSlice, DX_DECIDED, Y_DECIDED, type Decided } from './accurate-log-softmax.js';
import { sliceLayout } from '../../numeric/slices.js';
import { twoSumError } from '../../numeric/error-free.js';
import { scaledInteger, SCALED_INTEGER_SHIFT } from '../../numeric/float64-parts.js';
import { roundBelowMidpoint } from '../../numeric/round-below.js';
import type { Tensor } from '../../tensor.js';
import { decimalClasses, exactDecimal, isFarLogit, LOG_BIGNUMBER_PRECISIONS, type DecimalClass } from '../../reference/bignumber-reference.js';
import { isLeftUndecided, referenceBySlices, UNLIMITED, type BigNumberPolicy, type LeftUndecided } from '../../reference/reference-by-slices.js';
import { isRationalSlice, roundRational } from '../../reference/exact-rational.js';
import { gradientDefined, pivotIndex, type ReferenceEngine, type SliceTick } from '../../reference/reference-slice.js';
import { type ReferenceResult } from '../../reference/reference-result.js';

/**
 * The correctly rounded log_softmax and its gradient: every element the float64 nearest to
 *   y_i = x_i − m − log Σ_j exp(x_j − m),   dx_i = g_i − exp(y_i) Σ_j g_j.
 *
 * As for softmax, two engines: double-double (the accurate log_softmax with its error bounds,
 * accurate-log-softmax.ts), whose undecided slices go to BigNumber (mathjs's decimal.js, 64 digits,
 * then 256 and 1024 where a result lies too close to a rounding midpoint).
 *
 * Exact where the value is rational, which no rounded computation decides: a gradient whose slice
 * has equal logits (s = 1/c: dx_i = (c g_i − Σg)/c, in BigInt), and one whose Σg is exactly 0
 * (dx = g). A −Infinity logit gives y = −Infinity and dx = g_i; a slice with a NaN or +Infinity
 * logit, or every logit −Infinity, is NaN throughout; a non-finite g leaves the gradient NaN (no
 * exact value to measure a method against), as the softmax reference does.
 */
export type LogSoftmaxReferenceSlice = (x: Float64Array, g: Float64Array, y: Float64Array, dx: Float64Array, tick?: SliceTick) => Decided;

/** The double-double engine on one slice, with the exact cases; says which results it decided. */
export function doubleDoubleLogSoftmaxReferenceSlice(x: Float64Array, g: Float64Array, y: Float64Array, dx: Float64Array): Decided {
  return withExactCases(x, g, y, dx, accurateLogSoftmaxSlice(x, g, y, dx));
}

/** Overwrites the gradients that are rational (or undefined) with their exact values, and says so. */
function withExactCases(x: Float64Array, g: Float64Array, y: Float64Array, dx: Float64Array, found: Decided): Decided {
  if (y.every((v) => v !== v)) return found;
  if (!gradientDefined(g)) {
    dx.fill(NaN);
    return found | DX_DECIDED;
  }
  let count = 0n;
  let total = 0n;
  for (let i = 0; i < x.length; i++) {
    total += scaledInteger(g[i]);
    if (x[i] !== -Infinity) count++;
  }
  if (total === 0n) {
    dx.set(g);
    return found | DX_DECIDED;
  }
  if (isRationalSlice(x)) {
    const denominator = count << BigInt(SCALED_INTEGER_SHIFT);
    for (let i = 0; i < x.length; i++) dx[i] = x[i] === -Infinity ? g[i] : roundRational(count * scaledInteger(g[i]) - total, denominator);
    return found | DX_DECIDED;
  }
  return found;
}


/** Loads the BigNumber engine for log_softmax (mathjs's single-file bundle, as for softmax). */
export async function loadBigNumberLogSoftmaxReference(
  /** Date.now() after which a slice gets no more digits (the caller then leaves the reference out). */
  deadline?: number,
): Promise<LogSoftmaxReferenceSlice> {
  const classes = await decimalClasses(LOG_BIGNUMBER_PRECISIONS);
  return (x, g, y, dx, tick) => {
    let found: Decided = 0;
    // The last precision's answer stands even if undecided: a result within 1e-1000 of a midpoint.
    for (const { precision, Decimal } of classes) {
      found = withExactCases(x, g, y, dx, sliceAt(Decimal, precision, x, g, y, dx, tick));
      if (found === (Y_DECIDED | DX_DECIDED) || (deadline !== undefined && Date.now() > deadline)) break;
    }
    return found;
  };
}

function sliceAt(Decimal: DecimalClass, precision: number, x: Float64Array, g: Float64Array, y: Float64Array, dx: Float64Array, tick?: SliceTick): Decided {
  const n = x.length;
  let undefinedSlice = false;
  let masked = 0;
  for (const v of x) {
    if (v !== v || v === Infinity) undefinedSlice = true;
    else if (v === -Infinity) masked++;
  }
  if (undefinedSlice || masked === n) {
    y.fill(NaN);
    dx.fill(NaN);
    return Y_DECIDED | DX_DECIDED;
  }
  const big = (value: number): BigNumber => new Decimal(exactDecimal(value));
  const unit = 10 ** (1 - precision);
  const p = pivotIndex(x);
  const top = big(x[p]);
  const shifted = Array.from(x, (v) => (v === -Infinity ? undefined : big(v).minus(top)));
  // T = Σ_{j≠p} exp(x_j − m): S = 1 + T, and log S from T directly where T is small (a series),
  // since 1 + T would round T away. Far logits add nothing at these precisions (isFarLogit).
  const far = Array.from(x, (v) => isFarLogit(v, x[p]));
  // The pivot alone beside far and masked logits: L is exactly 0 by the far weights' convention.
  const pivotAlone = far.some(Boolean) && x.every((v, j) => j === p || v === -Infinity || far[j]);
  let rest = big(0);
  // The exponentials are half the work: told as the first half of the slice's elements.
  shifted.forEach((t, j) => {
    if (tick !== undefined && (j & 255) === 255) tick(j / 2);
    if (t !== undefined && j !== p && !far[j]) rest = rest.plus(t.exp());
  });
  const logSum = logOnePlus(rest, Decimal, precision);
  const logError = logSum.abs().times(new Decimal((n + 8) * unit));
  let total = big(0);
  let magnitude = big(0);
  for (const v of g) {
    total = total.plus(big(v));
    magnitude = magnitude.plus(big(v).abs());
  }
  const totalError = magnitude.times(new Decimal((n + 2) * unit));
  let found: Decided = Y_DECIDED | DX_DECIDED;
  shifted.forEach((t, i) => {
    if (tick !== undefined && (i & 255) === 255) tick((n + i) / 2);
    if (t === undefined) {
      y[i] = -Infinity;
      dx[i] = g[i];
      return;
    }
    const value = t.minus(logSum);
    y[i] = toNumber(value);
    const yError = logError.plus(t.abs().times(new Decimal(2 * unit))).plus(value.abs().times(new Decimal(unit)));
    if (!roundsUniquely(value, yError) && !(pivotAlone && i === p)) {
      // t = x_i − m an exact float64 midpoint, with log S below its last bit: no precision
      // decides that by rounding t − log S, but the side of the midpoint does (round-below.ts).
      const tHi = x[i] - x[p];
      const L = logSum.toNumber();
      const slack = logError.toNumber() + L * 2 ** -50;
      const below = roundBelowMidpoint(tHi, twoSumError(x[i], -x[p], tHi), L - slack, L + slack);
      if (below === below) y[i] = below;
      else found &= ~Y_DECIDED;
    }
    if (far[i]) {
      // s_i |Σg| is far below half the least subnormal: dx_i is g_i, or a zero of −Σg's sign.
      dx[i] = g[i] !== 0 ? g[i] : total.isNegative() ? 0 : -0;
      if (g[i] === 0 && total.abs().lte(totalError)) found &= ~DX_DECIDED;
      return;
    }
    const s = value.exp();
    const product = s.times(total);
    const difference = big(g[i]).minus(product);
    dx[i] = toNumber(difference);
    if (pivotAlone && i === p && difference.isZero()) return;
    const dxError = product
      .abs()
      .times(yError.plus(new Decimal(3 * unit)))
      .plus(s.times(totalError))
      .plus(big(g[i]).abs().times(new Decimal(unit)));
    if (!roundsUniquely(difference, dxError)) found &= ~DX_DECIDED;
  });
  return found;
}

/** log(1 + t) for t ≥ 0: decimal.js's ln, or the series t − t²/2 + t³/3 − … where 1 + t would lose t. */
export function logOnePlus(t: BigNumber, Decimal: DecimalClass, precision: number): BigNumber {
  if (t.isZero()) return t;
  if (t.gt(new Decimal(`1e-${Math.ceil(precision / 4)}`))) return t.plus(new Decimal(1)).ln();
  let sum = t;
  let power = t;
  const limit = t.times(new Decimal(`1e-${precision + 2}`));
  for (let k = 2; ; k++) {
    power = power.times(t).neg();
    const term = power.div(new Decimal(k));
    if (term.abs().lt(limit)) return sum;
    sum = sum.plus(term);
  }
}

export function toNumber(value: BigNumber): number {
  return Number(value.toString());
}

/** Whether every value within `error` (absolute) of `value` rounds to the same float64; 0 never does. */
export function roundsUniquely(value: BigNumber, error: BigNumber): boolean {
  if (value.isZero()) return false;
  const slack = error.times(1.001);
  return toNumber(value.minus(slack)) === toNumber(value.plus(slack));
}

/**
 * The correctly rounded log_softmax and gradient of a whole input. With `double-double`, a slice
 * with some rounding too close to call goes to the BigNumber engine, which is loaded only then, as
 * far as `policy` lets it: over that, what was left undecided.
 */
export async function computeLogSoftmaxReferenceWithin(
  x: Tensor,
  g: Tensor,
  axis: number,
  engine: ReferenceEngine,
  policy: BigNumberPolicy,
  loadBigNumber: (deadline?: number) => Promise<LogSoftmaxReferenceSlice> = loadBigNumberLogSoftmaxReference,
): Promise<ReferenceResult | LeftUndecided> {
  const decide = (xs: Float64Array, gs: Float64Array, ys: Float64Array, dxs: Float64Array) => doubleDoubleLogSoftmaxReferenceSlice(xs, gs, ys, dxs) === (Y_DECIDED | DX_DECIDED);
  const found = await referenceBySlices(x.data, g.data, sliceLayout(x.shape, axis), engine, decide, loadBigNumber, policy);
  return isLeftUndecided(found) ? found : { ...found, engine };
}

/** computeLogSoftmaxReferenceWithin with no limit on BigNumber: always the whole reference. */
export async function computeLogSoftmaxReference(
  x: Tensor,
  g: Tensor,
  axis: number,
  engine: ReferenceEngine,
  loadBigNumber: () => Promise<LogSoftmaxReferenceSlice> = loadBigNumberLogSoftmaxReference,
): Promise<ReferenceResult> {
  return (await computeLogSoftmaxReferenceWithin(x, g, axis, engine, UNLIMITED, loadBigNumber)) as ReferenceResult;
}
