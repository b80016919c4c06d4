import { DEFAULT_TOLERANCE, SMALLEST_SUBNORMAL, UNIT_ROUNDOFF, type Tolerance } from '../../dtype.js';
import type { Arithmetic } from '../../numeric/arithmetic.js';
import { maxPropagatingNaN } from '../../numeric/max.js';
import { forEachSlice, sliceStart, type SliceLayout } from '../../numeric/slices.js';
import { withHigherOrders } from '../../comparisons/higher-orders.js';
import type { AllowanceRule, Allowances, ElementAllowance, SliceBounds } from '../../comparisons/allowance.js';

/**
 * What rounding allows a correct log_softmax kernel (docs/verdict.md, "log_softmax"). With u_d,
 * u_c, u_a the unit roundoffs of the dtype, the compute and the accumulation types, n the slice
 * length, m its largest logit, t_i = x_i − m, L = log Σ exp(t_j), s = exp(y), G = Σ g:
 *
 *   y:   allowed_i = atol + rtol·|b_i| + μ_i                                    (absolute: y is a log)
 *        μ_i = (|t_i| + |y_i| + 2 + Σ_j s_j|t_j|)·u_c + min((|m| + L)·u_c, L) + n·u_a + (1 + L)·u_d
 *   dx:  allowed_i = atol + rtol·|b_i| + rtol'·s_i|G||y_i| + s_i|G|(e^μ_i − 1 + 2u_c + 2u_d)
 *                    + (n·u_a + 2u_c)(|g_i| + s_i Σ|g_j|) + u_c|b_i| + τ_c|G| + τ_d
 *
 * μ_i pays for x_i − m, each exp and its argument's error (weighted by s_j in the sum), the sum,
 * the log, and the lse design x_i − (m + L) (|m| + L, one rounding of the lse); (1 + L)·u_d for
 * PyTorch's half-type kernels, which round the sum and its log to the dtype before subtracting.
 * Backward reads y as stored: an error e in y is e·s_i in exp(y), times G (rtol'·|y_i|, rtol' =
 * max(rtol, u_d), for the stored rounding; μ_i for the arithmetic's). Σg is summed (n·u_a) and, in
 * PyTorch's half kernels, stored in the dtype (2u_d); the explicit Jacobian sums |g_i| + s_i Σ|g|
 * worth of terms in the accumulation type. τ: smallest subnormals, for s_i·G below the normal range.
 */
export interface LogSoftmaxElementAllowance extends ElementAllowance {
  readonly atol: number;
  readonly rtol: number;
  /** rtol' on the error y carries into exp(y), at least u_d: the stored y backward reads. */
  readonly cancellationRtol: number;
  readonly quantity: 'log_softmax' | 'log_softmax_grad';
  readonly terms: LogSoftmaxTerms;
  readonly bothSidesRounded?: boolean;
}

export interface LogSoftmaxTerms {
  readonly layout: SliceLayout;
  readonly x: Float64Array;
  readonly g: Float64Array;
  /** The closed form's log_softmax: the size of y_i, and s_i = exp(y_i). */
  readonly y: Float64Array;
  readonly uc: number;
  readonly ud: number;
  /** n·u_a + 2u_c: the explicit Jacobian's sums and products, per unit of |g_i| + s_i Σ|g|. */
  readonly sumShare: number;
  readonly tinyComputed: number;
  readonly tinyStored: number;
  /** Per slice: m, the part of μ every element shares, |Σg|, Σ|g|. */
  readonly sliceMax: Float64Array;
  readonly sharedMus: Float64Array;
  readonly gradTotals: Float64Array;
  readonly gradMagnitudes: Float64Array;
}

/**
 * μ_i of element i in slice k (absolute, on y). First order, its products of roundings paid by
 * μ(1 + 2μ) below 1/2 and by doubling from there: an error factor e^μ in the sum of exps is μ in
 * its log, so y's error stays of the order of μ however large (a logit at finfo.min: μ is then
 * about 2u|y_i|, not infinite).
 */
export function logSoftmaxMu(t: LogSoftmaxTerms, i: number, k: number): number {
  const mu = firstOrderMu(t, i, k);
  return mu < 0.5 ? withHigherOrders(mu) : 2 * mu;
}

/** What μ_i on y makes of exp(y_i): a relative error up to e^μ − 1 (μ(1 + 2μ) bounds it below 1/2). */
function expError(t: LogSoftmaxTerms, i: number, k: number): number {
  const mu = firstOrderMu(t, i, k);
  return mu < 0.5 ? withHigherOrders(mu) : Math.expm1(mu) * (1 + 2 ** -40);
}

function firstOrderMu(t: LogSoftmaxTerms, i: number, k: number): number {
  const size = Math.abs(t.x[i] - t.sliceMax[k]) + Math.abs(t.y[i]);
  // Near finfo.min, |t_i| + |y_i| overflows where each alone does not.
  const own = size < Infinity ? t.uc * size : t.uc * Math.abs(t.x[i]) + t.uc * Math.abs(t.sliceMax[k]) + t.uc * Math.abs(t.y[i]);
  return own + t.sharedMus[k];
}

/** The allowance's parts for element i of slice k against the value b: rtol·|b|, the read-back term, the arithmetic. */
export function logSoftmaxParts(allowance: LogSoftmaxElementAllowance, i: number, b: number, k: number): { relative: number; cancellation: number; arithmetic: number } {
  const t = allowance.terms;
  const relative = b === 0 ? 0 : allowance.rtol * Math.abs(b);
  // A masked element (x_i = −Infinity) is matched exactly or not at all: −Infinity and g_i.
  if (t.x[i] === -Infinity) return { relative, cancellation: 0, arithmetic: 0 };
  if (allowance.quantity === 'log_softmax') return { relative, cancellation: 0, arithmetic: logSoftmaxMu(t, i, k) };
  const s = Math.exp(t.y[i]);
  const total = t.gradTotals[k];
  const weight = s === 0 ? 0 : s * total;
  const cancellation = weight === 0 ? 0 : allowance.cancellationRtol * weight * Math.abs(t.y[i]);
  const arithmetic =
    (weight === 0 ? 0 : weight * (expError(t, i, k) + 2 * t.uc + 2 * t.ud)) +
    t.sumShare * (Math.abs(t.g[i]) + s * t.gradMagnitudes[k]) +
    t.uc * Math.abs(b) +
    t.tinyComputed * total +
    t.tinyStored;
  return { relative, cancellation, arithmetic };
}

/** log_softmax's rule: the terms above, element by element. */
export const LOG_SOFTMAX_RULE: AllowanceRule<LogSoftmaxElementAllowance> = {
  rounding(allowance, i, b, k) {
    const { relative, cancellation, arithmetic } = logSoftmaxParts(allowance, i, b, k);
    return relative + cancellation + arithmetic;
  },
  parts: logSoftmaxParts,
};

export interface LogSoftmaxAllowances extends Allowances {
  readonly forward: LogSoftmaxElementAllowance;
  readonly grad: LogSoftmaxElementAllowance;
  /** Σ exp(y) = 1 and Σ dx = 0 per slice (the `softmaxSum` is that of exp(y)). */
  readonly slices: SliceBounds;
  readonly expectedSlices: SliceBounds;
}

/** The allowances for one input in the arithmetic a kernel is taken to run in. */
export function logSoftmaxAllowances(
  inputs: { readonly x: Float64Array; readonly g: Float64Array; readonly forward: Float64Array; readonly grad: Float64Array; readonly layout: SliceLayout },
  arithmetic: Arithmetic,
  tolerance: Tolerance,
  /** Added to n·u_a + 2u_c: g's own rounding, when g is computed (cross_entropy's dL/dy). */
  gRounding = 0,
): LogSoftmaxAllowances {
  const { x, g, forward: y, grad, layout } = inputs;
  const ud = UNIT_ROUNDOFF[arithmetic.dtype];
  const uc = UNIT_ROUNDOFF[arithmetic.compute];
  const ua = UNIT_ROUNDOFF[arithmetic.accumulate];
  const tinyComputed = SMALLEST_SUBNORMAL[arithmetic.compute];
  const tinyStored = SMALLEST_SUBNORMAL[arithmetic.dtype];
  const n = layout.length;
  const rtol = Math.max(tolerance.rtol, 2 * ud);
  const cancellationRtol = Math.max(tolerance.rtol, ud);
  const baseline = DEFAULT_TOLERANCE[arithmetic.dtype];
  const looser = tolerance.rtol > baseline.rtol || tolerance.atol > baseline.atol;
  const [slackAtol, slackRtol] = looser ? [tolerance.atol, tolerance.rtol] : [0, 0];

  const sliceMax = new Float64Array(layout.count);
  const sharedMus = new Float64Array(layout.count);
  const gradTotals = new Float64Array(layout.count);
  const gradMagnitudes = new Float64Array(layout.count);
  const forwardSum = new Float64Array(layout.count);
  const gradSum = new Float64Array(layout.count);
  const expectedForwardSum = new Float64Array(layout.count);
  const expectedGradSum = new Float64Array(layout.count);
  const terms: LogSoftmaxTerms = {
    layout,
    x,
    g,
    y,
    uc,
    ud,
    sumShare: n * ua + 2 * uc + gRounding,
    tinyComputed,
    tinyStored,
    sliceMax,
    sharedMus,
    gradTotals,
    gradMagnitudes,
  };
  const common = { atol: tolerance.atol, rtol, cancellationRtol, terms, rule: LOG_SOFTMAX_RULE };
  const gradAllowance: LogSoftmaxElementAllowance = { ...common, quantity: 'log_softmax_grad' };

  forEachSlice(layout, [x, g, y], [], ([xs, gs, ys], _, k) => {
    const max = maxPropagatingNaN(xs);
    let spread = 0;
    let total = 0;
    let magnitude = 0;
    for (let j = 0; j < n; j++) {
      const s = Math.exp(ys[j]);
      if (s > 0) spread += s * Math.abs(xs[j] - max);
      total += gs[j];
      magnitude += Math.abs(gs[j]);
    }
    // L = −y_p at the largest logit (y_p = −L): no log needed.
    const logSum = Math.max(0, -ys[xs.indexOf(max)]) || 0;
    sliceMax[k] = max;
    // m + L rounds to the float nearest it, and m is one: its error is at most L as well, which is
    // what bounds it where |m| is huge (a slice masked wholly at finfo.min).
    sharedMus[k] = Math.min((Math.abs(max) + logSum) * uc, logSum) + (2 + spread) * uc + n * ua + (1 + logSum) * ud;
    gradTotals[k] = Math.abs(total);
    gradMagnitudes[k] = magnitude;
  });
  // The sums' bounds: each element's arithmetic, summed, with the stored values off by 2u_d.
  forEachSlice(layout, [x, y, grad], [], ([xs, ys, dxs], _, k) => {
    const first = sliceStart(layout, k);
    let forwardBound = (n + 1) * ua + n * tinyStored;
    let gradBound = 0;
    let forwardSlack = 0;
    let gradSlack = 0;
    for (let j = 0; j < n; j++) {
      if (xs[j] === -Infinity) continue;
      const s = Math.exp(ys[j]);
      const index = first + j * layout.stride;
      forwardBound += s === 0 ? 0 : s * (2 * ud * Math.abs(ys[j]) + expError(terms, index, k) + 2 * uc);
      const parts = logSoftmaxParts(gradAllowance, index, dxs[j], k);
      gradBound += parts.arithmetic + (2 * ud / Math.max(ud, cancellationRtol)) * parts.cancellation + 2 * ud * Math.abs(dxs[j]);
      forwardSlack += s * (slackAtol + slackRtol * Math.abs(ys[j]));
      gradSlack += slackAtol + slackRtol * (Math.abs(dxs[j]) + s * gradTotals[k] * Math.abs(ys[j]));
    }
    gradBound += gradTotals[k] * forwardBound;
    forwardSum[k] = forwardBound;
    gradSum[k] = gradBound;
    expectedForwardSum[k] = forwardBound + forwardSlack;
    // A slice with no log_softmax (every logit masked, a NaN or +Infinity logit) has no sums to
    // hold: NaN bounds leave it out, as for softmax.
    if (!(terms.sliceMax[k] > -Infinity && terms.sliceMax[k] < Infinity)) {
      forwardSum[k] = gradSum[k] = expectedForwardSum[k] = NaN;
    }
    expectedGradSum[k] = gradBound + gradSlack + gradTotals[k] * forwardSlack;
  });
  return {
    forward: { ...common, quantity: 'log_softmax' },
    grad: gradAllowance,
    slices: { softmaxSum: forwardSum, gradSum },
    expectedSlices: { softmaxSum: expectedForwardSum, gradSum: expectedGradSum },
  };
}
