import { add, dd, mul, mulNumber, neg, toNumberScaled, type DD } from '../../numeric/double-double.js';
import { expDoubleDouble, exponentials } from '../../numeric/double-double-exp.js';
import { ldexp } from '../../numeric/ldexp.js';
import { twoSumError } from '../../numeric/error-free.js';
import { scaledInteger } from '../../numeric/float64-parts.js';
import { roundBelowMidpoint } from '../../numeric/round-below.js';
import { maxPropagatingNaN } from '../../numeric/max.js';
import { forEachSlice, type SliceLayout } from '../../numeric/slices.js';
import { type MethodResult } from '../../methods/method-result.js';

/**
 * log_softmax and its gradient in double-double, rounded to float64 once: the exact result that
 * expected values are judged against (as the accurate closed form is for softmax).
 *
 *   L = log S, S = Σ_j exp(x_j − m)   (S in [1, n]: each exp(x_j − m) in double-double, within 2^-102)
 *   y_i = (x_i − m) − L               (x_i − m exact by two-sum; no cancellation: x_i − m ≤ 0 ≤ L)
 *   dx_i = g_i − exp(y_i)·Σg          (exp, products and Σg in double-double)
 *
 * L from Math.log(S) refined by one Newton step on exp(−L0)·S = 1 + δ: log S = L0 + δ − δ²/2 + …,
 * |δ| ≈ 2^-52, so the neglected δ³/3 is below 2^-150. y_i is then within about 2^-100 of |y_i| + L
 * and dx_i within 2^-98 of |g_i| + exp(y_i)|Σg|: far below the allowance of any dtype, where
 * expected values are judged.
 *
 * Special cases as PyTorch: a −Infinity logit has y = −Infinity and dx = g_i; an all-−Infinity,
 * NaN or +Infinity slice is NaN throughout.
 *
 * Each result also carries an error bound, and the function says whether every y, and every dx,
 * is certainly the nearest float64 to the exact value (the log_softmax reference's double-double
 * engine; the undecided go to BigNumber).
 */
export function accurateLogSoftmaxSlice(
  x: Float64Array,
  g: Float64Array,
  y: Float64Array,
  dx: Float64Array,
  /** g's low parts, when g is a double-double (cross_entropy's exact dL/dy); 0 without. */
  gLow?: Float64Array,
  /** Where to write y's low parts (y + yLow is the double-double log_softmax), when asked. */
  yLow?: Float64Array,
): Decided {
  const n = x.length;
  const max = maxPropagatingNaN(x);
  if (!(max > -Infinity && max < Infinity)) {
    y.fill(NaN);
    dx.fill(NaN);
    return BOTH_DECIDED;
  }
  const p = x.indexOf(max);
  const exponents = new Float64Array(n);
  const highs = new Float64Array(n);
  const lows = new Float64Array(n);
  // Returns false where some x_j − m is below −2^40: its exp is then far below any float64, and
  // it adds nothing to S (a far logit: reference/reference-slice.ts).
  const far = !exponentials(x, p, exponents, highs, lows);
  // Whether the pivot's own weight is all of S but for far ones: then L is exactly 0 by their
  // convention (reference/reference-slice.ts), and y_p and s_p = 1 are exact.
  let pivotAlone = far;
  for (let j = 0; j < n && pivotAlone; j++) if (j !== p && exponents[j] !== -Infinity) pivotAlone = false;
  let masked = 0;
  // The largest binary exponent among the other weights: T = Σ_{j≠p} e_j < n 2^(that + 1.01).
  let largestOther = -Infinity;
  for (let j = 0; j < n; j++) {
    if (x[j] === -Infinity) masked++;
    else if (j !== p && exponents[j] > largestOther) largestOther = exponents[j];
  }
  let sum = dd(0);
  for (let j = 0; j < n; j++) {
    const k = exponents[j];
    if (k === -Infinity) continue;
    sum = add(sum, { hi: ldexp(highs[j], k), lo: ldexp(lows[j], k) });
  }
  let logSum = logOf(sum);
  // |L̃ − L|: S's relative error (each exp 2^-102, each of the n additions 3u² of its partial
  // sum, S ≥ 1) becomes an absolute one in log S; the Newton step's own, 2^-101 and 2^-100 L.
  let logError = (4 + n / 16 + 2 * logSum.hi) * 2 ** -100;
  if (sum.hi - 1 < 2 ** -50 && !pivotAlone) {
    // A dominant logit: log S = log(1 + T) with T = Σ_{j≠p} e_j below 2^-50, from T itself (1 + T
    // keeps T to 2^-106 at best), so that L keeps its relative precision: T − T²/2 + T³/3, the
    // rest below T·2^-150. T's error: each exp 2^-102, each addition of positive terms 3u² (1 + 3u)
    // of its partial sum, terms below the subnormals 2^-1073 each; the series in double-double
    // within 2^-100 of L.
    let rest = dd(0);
    for (let j = 0; j < n; j++) {
      const k = exponents[j];
      if (j === p || k === -Infinity) continue;
      rest = add(rest, { hi: ldexp(highs[j], k), lo: ldexp(lows[j], k) });
    }
    const square = mul(rest, rest);
    logSum = add(add(rest, { hi: -0.5 * square.hi, lo: -0.5 * square.lo }), mulNumber(mul(square, rest), 1 / 3));
    logError = (2 ** -102 + 3.1 * n * 2 ** -106 + 2 ** -100) * logSum.hi + n * 2 ** -1073;
  }
  const L = logSum.hi;
  let total = dd(0);
  let magnitude = 0;
  const gOf = (j: number): DD => ({ hi: g[j], lo: gLow?.[j] ?? 0 });
  for (let j = 0; j < n; j++) {
    total = add(total, gOf(j));
    magnitude += Math.abs(g[j]);
  }
  // Σg's error: 3u² (1 + …) of the partial sums' magnitudes at each of n additions.
  const totalError = 3 * n * 2 ** -106 * magnitude * 1.01;
  const out = new Float64Array(3);
  let yDecided = true;
  let dxDecided = true;
  for (let i = 0; i < n; i++) {
    if (x[i] === -Infinity) {
      y[i] = -Infinity;
      if (yLow !== undefined) yLow[i] = 0;
      // s_i = 0: dx_i is g_i exactly (its sign kept, as the BigNumber engine and the exact cases
      // give it), unless Σg is not finite: then NaN, as PyTorch's g − 0·Σg.
      dx[i] = Number.isFinite(total.hi) ? withLow(g[i], gLow?.[i] ?? 0) : g[i] - 0 * total.hi;
      continue;
    }
    const t = x[i] - max;
    if (t === -Infinity) {
      // x_i − max overflowed (a finfo.min mask beside logits near the float64 limit): the exact
      // y_i is below −MAX_VALUE − 1 and rounds to −Infinity; s_i is a far weight (below).
      y[i] = -Infinity;
      if (yLow !== undefined) yLow[i] = 0;
      if (!farGradient(dx, i, g[i], gLow?.[i] ?? 0, total, totalError)) dxDecided = false;
      continue;
    }
    const shifted: DD = { hi: t, lo: twoSumError(x[i], -max, t) };
    const logSoftmax = add(shifted, neg(logSum));
    y[i] = logSoftmax.hi + logSoftmax.lo;
    if (yLow !== undefined) {
      y[i] = logSoftmax.hi;
      yLow[i] = logSoftmax.lo;
    }
    const yError = logError + 2 ** -104 * (Math.abs(t) + L);
    // y = 0 exactly but for far weights (the pivot beside nothing else): 0, by their convention.
    if (!decided(logSoftmax, yError) && !(pivotAlone && i === p)) {
      // t an exact midpoint between two float64s, and L below its last bit (a dominant logit).
      // L > 0 whenever some other logit is unmasked and not far, however far below the float64
      // range (a gap beyond 745) its weight lies: then any positive bound will do.
      const least = L - logError > 0 ? L - logError : pivotAlone || n - masked < 2 ? 0 : Number.MIN_VALUE;
      // The pivot's y = −L, below the normal range: from T at a scale of its own (tinyPivotLogSoftmax).
      const below = i === p && least > 0 && L < 2 ** -900 ? tinyPivotLogSoftmax(exponents, highs, lows, p, largestOther) : roundBelowMidpoint(shifted.hi, shifted.lo, least, L + logError);
      // (A double-double y, cross_entropy's, keeps its parts: only its rounding was in doubt.)
      if (below !== below) yDecided = false;
      else if (yLow === undefined) y[i] = below;
    }
    if (!expDoubleDouble(logSoftmax.hi, logSoftmax.lo, out)) {
      // y_i below FAR_LIMIT: s_i = exp(y_i) < 2^(-1.58e12) moves dx_i = g_i − s_i Σg by less than
      // any float64 resolves, but for its sign where g_i is 0.
      if (!farGradient(dx, i, g[i], gLow?.[i] ?? 0, total, totalError)) dxDecided = false;
      continue;
    }
    // s_i·Σg = 2^k (m_hi + m_lo)·Σg, scaled after the product so that a tiny s_i keeps its digits.
    const product = mul({ hi: out[1], lo: out[2] }, total);
    const scaled: DD = { hi: ldexp(product.hi, out[0]), lo: ldexp(product.lo, out[0]) };
    const difference = add(gOf(i), neg(scaled));
    dx[i] = difference.hi + difference.lo;
    // exp(ỹ) is off by ỹ's error (relative) and 2^-102; the product 2^-103; the difference 3u².
    const s = ldexp(out[1], out[0]);
    // A double-double g (cross_entropy's h, a few double-double operations from its inputs) is
    // itself within 2^-100 of its exact value.
    const gError = gLow === undefined ? 0 : 2 ** -100 * (Math.abs(g[i]) + s * magnitude);
    const dxError = Math.abs(scaled.hi) * (yError + 2 ** -101) + s * totalError + 2 ** -104 * (Math.abs(g[i]) + Math.abs(scaled.hi)) + gError;
    dxDecided &&= decided(difference, dxError * 1.01) || (pivotAlone && i === p && difference.hi === 0 && othersSumToZero(g, gLow, i));
  }
  return (yDecided ? Y_DECIDED : 0) | (dxDecided ? DX_DECIDED : 0);
}

/**
 * dx_i = g_i − s_i Σg for a far s_i (below 2^(-1.58e12), so s_i |Σg| < 2^-1076 ≤ half the least
 * subnormal): a float64 g_i is itself the nearest float64; g_i = 0 gives a zero of −Σg's sign;
 * a double-double g (cross_entropy's h) rounds as it does. NaN where Σg is not finite, as in
 * PyTorch's g − 0·Σg. Returns whether the rounding is decided.
 */
function farGradient(dx: Float64Array, i: number, gi: number, giLow: number, total: DD, totalError: number): boolean {
  if (!Number.isFinite(total.hi)) {
    dx[i] = gi - 0 * total.hi;
    return true;
  }
  if (giLow !== 0) {
    const value: DD = { hi: gi, lo: giLow };
    dx[i] = gi + giLow;
    // cross_entropy's h is within 2^-100 |h| of its exact value (see the gError of the caller).
    return decided(value, 2 ** -100 * Math.abs(gi));
  }
  if (gi !== 0) {
    dx[i] = gi;
    return true;
  }
  // Σg = 0 exactly is the caller's exact case (dx = g); else its sign decides, when it is known.
  dx[i] = total.hi > 0 ? -0 : 0;
  return Math.abs(total.hi) > totalError;
}

/**
 * y_p = −log(1 + T) for a pivot whose T = Σ_{j≠p} e_j lies below 2^-900, correctly rounded into
 * the subnormals (or to −0), or NaN when that is in doubt. T is summed at the scale 2^-K of its
 * largest term (K = largestOther), where it lies in [0.9998, 2.0004 n]: each exp within 2^-102,
 * each addition of positive terms 3u² (1 + 3u) of its partial sum, terms more than 2^1074 below
 * the largest dropped (n 2^-1074 at that scale), and log(1 + T) = T (1 − T/2 + …) within T/2 ≤
 * 2^-901 of T, relatively.
 */
function tinyPivotLogSoftmax(exponents: Float64Array, highs: Float64Array, lows: Float64Array, p: number, largestOther: number): number {
  const n = exponents.length;
  let rest = dd(0);
  for (let j = 0; j < n; j++) {
    const k = exponents[j];
    if (j === p || k === -Infinity) continue;
    const shift = k - largestOther;
    rest = add(rest, { hi: ldexp(highs[j], shift), lo: ldexp(lows[j], shift) });
  }
  const error = (2 ** -102 + 3.1 * n * 2 ** -106 + 2 ** -900) * rest.hi + n * 2 ** -1074;
  const d = error * (1 + 2 ** -40) + rest.hi * 2 ** -103;
  const low = toNumberScaled(neg(add(rest, dd(-d))), largestOther);
  const high = toNumberScaled(neg(add(rest, dd(d))), largestOther);
  return low === high ? toNumberScaled(neg(rest), largestOther) : NaN;
}

/**
 * Whether Σ_{j≠i} g_j is exactly 0 (as integers of 2^-1074, low parts too): then dx_i = g_i − s_i Σg
 * with s_i = 1 but for far weights is 0 by their convention (reference/reference-slice.ts).
 */
function othersSumToZero(g: Float64Array, gLow: Float64Array | undefined, i: number): boolean {
  let total = 0n;
  for (let j = 0; j < g.length; j++) {
    if (j === i) continue;
    total += scaledInteger(g[j]) + scaledInteger(gLow?.[j] ?? 0);
  }
  return total === 0n;
}

/** Which of a slice's results are certainly the nearest float64s: bits Y_DECIDED and DX_DECIDED. */
export type Decided = number;
export const Y_DECIDED = 1;
export const DX_DECIDED = 2;
const BOTH_DECIDED = Y_DECIDED | DX_DECIDED;

/**
 * Whether every value within `error` of the double-double v rounds to the same float64 as v: both
 * ends of the interval, formed in float64 (δ covers their own rounding, 2^-105 |v.hi|), round to
 * v.hi. Values below 2^-900 (or 0) are never decided here: the BigNumber engine takes them.
 */
export function decided(v: DD, error: number): boolean {
  const magnitude = Math.abs(v.hi);
  // Up to the float64 limit: where v.hi ± the slack overflows, the rounding to ±Infinity is in doubt, and so undecided.
  if (!(magnitude >= 2 ** -900 && magnitude <= Number.MAX_VALUE) || !(error < magnitude / 4)) return false;
  const d = error * (1 + 2 ** -40) + magnitude * 2 ** -105;
  return v.hi + (v.lo + d) === v.hi && v.hi + (v.lo - d) === v.hi;
}

/** A double-double's value as a float64, −0 kept (−0 + 0 would be +0). */
function withLow(high: number, low: number): number {
  return low === 0 ? high : high + low;
}

/** log S for S ≥ 1 in double-double: Math.log refined by one Newton step (see above). */
function logOf(s: DD): DD {
  const first = Math.log(s.hi);
  if (first === 0 && s.lo === 0) return dd(0);
  const out = new Float64Array(3);
  expDoubleDouble(-first, 0, out);
  // exp(−L0)·S = 1 + δ.
  const scaled = mul({ hi: ldexp(out[1], out[0]), lo: ldexp(out[2], out[0]) }, s);
  const delta = add(scaled, dd(-1));
  const d = delta.hi + delta.lo;
  return add(dd(first), add(delta, dd(-0.5 * d * d)));
}


export function runAccurateLogSoftmaxFloat64(x: Float64Array, g: Float64Array, layout: SliceLayout): MethodResult {
  const forward = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  forEachSlice(layout, [x, g], [forward, grad], ([xs, gs], [ys, dxs]) => void accurateLogSoftmaxSlice(xs, gs, ys, dxs));
  return { forward, grad };
}
