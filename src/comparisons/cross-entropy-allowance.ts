import { UNIT_ROUNDOFF, type Tolerance } from '../dtype.js';
import type { CrossEntropySpec } from '../cross-entropy-spec.js';
import type { LossLayer } from '../methods/cross-entropy.js';
import { forEachSlice, sliceStart, type SliceLayout } from '../methods/slices.js';
import type { Arithmetic } from '../numeric/arithmetic.js';
import type { SliceBounds } from './allowance.js';
import { logSoftmaxAllowances, logSoftmaxMu, type LogSoftmaxElementAllowance } from './log-softmax-allowance.js';

/**
 * What rounding allows a correct cross_entropy kernel (docs/verdict.md, "cross_entropy").
 *
 * The gradient is log_softmax's backward applied to h = dL/dy = −w ⊙ q · scale: its allowance is
 * log_softmax's with g = h, plus h's own rounding (q's smoothing, w·q, the scale g/D with D stored
 * in the dtype, h stored in the dtype: 3u_c + 3u_d of |h_i| + s_i Σ|h|).
 *
 * The loss, −Σ_n Σ_c w_c q_nc y_nc / D (or per sample), allows each term's y its error as the
 * gradient's backward reads it (rtol'·|y| + μ, log_softmax's, and a product's 2u_c), the sums
 * (C·u_a per sample; over the samples N·u_a, and PyTorch's pairwise sum in the dtype, its depth
 * times u_d), and D's rounding and the division (2u_d of the loss): with T = Σ w q |y|,
 *
 *   allowed = atol + rtol·|b| + (Σ_nc w_c q_nc (rtol'·|y_nc| + μ_nc + 2u_c) + (C·u_a + 2u_c + 3u_d)·T
 *             + (N·u_a + (⌈log₂ N⌉ + 2)·u_d)·T) / D + 2u_d·|b|
 */
export interface LossElementAllowance {
  readonly atol: number;
  readonly rtol: number;
  readonly cancellationRtol: number;
  readonly quantity: 'loss';
  readonly terms: { readonly layout: SliceLayout; readonly arithmetic: Float64Array };
  readonly bothSidesRounded?: boolean;
}

export function lossAllowed(allowance: LossElementAllowance, i: number, b: number): number {
  const rounding = (b === 0 ? 0 : allowance.rtol * Math.abs(b)) + allowance.terms.arithmetic[i];
  return allowance.atol + (allowance.bothSidesRounded ? 2 * rounding : rounding);
}

export interface CrossEntropyAllowances {
  readonly forward: LossElementAllowance;
  readonly grad: LogSoftmaxElementAllowance;
  readonly slices: SliceBounds;
  readonly expectedSlices: SliceBounds;
}

export function crossEntropyAllowances(
  inputs: {
    readonly x: Float64Array;
    /** The closed form's log_softmax, and its gradient. */
    readonly y: Float64Array;
    readonly grad: Float64Array;
    readonly layout: SliceLayout;
    readonly layer: LossLayer;
    readonly spec: CrossEntropySpec;
  },
  arithmetic: Arithmetic,
  tolerance: Tolerance,
): CrossEntropyAllowances {
  const { x, y, grad, layout, layer, spec } = inputs;
  const ud = UNIT_ROUNDOFF[arithmetic.dtype];
  const uc = UNIT_ROUNDOFF[arithmetic.compute];
  const ua = UNIT_ROUNDOFF[arithmetic.accumulate];
  const logs = logSoftmaxAllowances({ x, g: layer.h, forward: y, grad, layout }, arithmetic, tolerance, 3 * uc + 3 * ud);
  const { cancellationRtol, rtol } = logs.grad;
  const terms = logs.grad.terms;
  const classes = layout.length;
  const perSample = new Float64Array(layout.count);
  const magnitudes = new Float64Array(layout.count);
  forEachSlice(layout, [y, layer.weighted], [], ([ys, wq], _, k) => {
    if (layer.counted[k] === 0) return;
    const first = sliceStart(layout, k);
    let share = 0;
    let magnitude = 0;
    for (let c = 0; c < classes; c++) {
      if (wq[c] === 0) continue;
      const size = Math.abs(wq[c] * ys[c]);
      magnitude += size;
      share += Math.abs(wq[c]) * (cancellationRtol * Math.abs(ys[c]) + logSoftmaxMu(terms, first + c * layout.stride, k) + 2 * uc);
    }
    perSample[k] = share + (classes * ua + 2 * uc + 3 * ud) * magnitude;
    magnitudes[k] = magnitude;
  });
  let arithmeticTerms: Float64Array;
  if (spec.reduction === 'none') arithmeticTerms = perSample;
  else {
    let share = 0;
    let magnitude = 0;
    for (let k = 0; k < layout.count; k++) {
      share += perSample[k];
      magnitude += magnitudes[k];
    }
    const n = layout.count;
    // |D|: class weights may be negative (PyTorch takes them), and so then may D.
    const divisor = Math.abs(layer.divisor);
    const total = (share + (n * ua + (Math.ceil(Math.log2(n)) + 2) * ud) * magnitude) / divisor;
    arithmeticTerms = Float64Array.of(total + 2 * ud * (magnitude / divisor));
  }
  const forward: LossElementAllowance = {
    atol: tolerance.atol,
    rtol,
    cancellationRtol,
    quantity: 'loss',
    terms: { layout: { length: 1, stride: 1, count: arithmeticTerms.length }, arithmetic: arithmeticTerms },
  };
  // The loss has no law of its own; the gradient sums to 0 over each sample's classes (NaN, as
  // log_softmax's, where a sample has no log_softmax: its sums are left out).
  const noForwardLaw = logs.slices.softmaxSum.map((bound) => (bound === bound ? 0 : NaN));
  return {
    forward,
    grad: logs.grad,
    slices: { softmaxSum: noForwardLaw, gradSum: logs.slices.gradSum },
    expectedSlices: { softmaxSum: noForwardLaw, gradSum: logs.expectedSlices.gradSum },
  };
}
