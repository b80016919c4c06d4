import { add, dd, mul, neg, type DD } from '../numeric/double-double.js';
import { expDoubleDouble, exponentials } from '../numeric/double-double-exp.js';
import { ldexp } from '../numeric/ldexp.js';
import { twoSumError } from '../numeric/error-free.js';
import { maxPropagatingNaN } from './max.js';
import type { MethodResult } from './pipelines.js';
import { forEachSlice, type SliceLayout } from './slices.js';

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
  // it adds nothing to S.
  exponentials(x, p, exponents, highs, lows);
  let sum = dd(0);
  for (let j = 0; j < n; j++) {
    const k = exponents[j];
    if (k === -Infinity) continue;
    sum = add(sum, { hi: ldexp(highs[j], k), lo: ldexp(lows[j], k) });
  }
  const logSum = logOf(sum);
  const L = logSum.hi;
  // |L̃ − L|: S's relative error (each exp 2^-102, each of the n additions 3u² of its partial
  // sum, S ≥ 1) becomes an absolute one in log S; the Newton step's own, 2^-101 and 2^-100 L.
  const logError = (4 + n / 16 + 2 * L) * 2 ** -100;
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
    const shifted: DD = { hi: t, lo: twoSumError(x[i], -max, t) };
    const logSoftmax = add(shifted, neg(logSum));
    y[i] = logSoftmax.hi + logSoftmax.lo;
    if (yLow !== undefined) {
      y[i] = logSoftmax.hi;
      yLow[i] = logSoftmax.lo;
    }
    const yError = logError + 2 ** -104 * (Math.abs(t) + L);
    yDecided &&= decided(logSoftmax, yError);
    if (!expDoubleDouble(logSoftmax.hi, logSoftmax.lo, out)) {
      dx[i] = g[i] - 0 * total.hi;
      dxDecided = false;
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
    dxDecided &&= decided(difference, dxError * 1.01);
  }
  return (yDecided ? Y_DECIDED : 0) | (dxDecided ? DX_DECIDED : 0);
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
  if (!(magnitude >= 2 ** -900 && magnitude < 2 ** 1000) || !(error < magnitude / 4)) return false;
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
