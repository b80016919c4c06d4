import { forEachSlice, type SliceLayout } from './slices.js';

/** Beyond this many ulps an invariant is flagged. */
export const INVARIANT_ULP_LIMIT = 4;

export interface InvariantCheck {
  /** The worst |Σ s − 1| over the slices, in units of the dtype's epsilon, and its slice. */
  readonly softmaxSum: { readonly ulps: number; readonly slice: number };
  /** The worst |Σ dx| / Σ s_i (|g_i| + |⟨s, g⟩|) over the slices, in units of the dtype's epsilon. */
  readonly gradSum: { readonly ulps: number; readonly slice: number };
  /**
   * The worst |Σ dx| / Σ |dx|, in units of the dtype's epsilon: the measure as first asked for,
   * shown beside gradSum but not flagged (see below why it misfires on correct results).
   */
  readonly gradSumOfMagnitudes: { readonly ulps: number; readonly slice: number };
  /** Slices where either invariant is beyond INVARIANT_ULP_LIMIT. */
  readonly flaggedSlices: number;
}

/**
 * Two laws every softmax result must obey, slice by slice: the probabilities sum to 1, and the
 * gradient sums to 0 (softmax is invariant to adding a constant to every logit, so its Jacobian's
 * rows sum to 0). Sums are compensated (Neumaier), so that the figure is the results' own error,
 * not the summation's, and are counted in units of `epsilon`, the dtype's (2^-52 for float64).
 * Slices with NaN (no softmax) are skipped.
 *
 * The gradient's sum is measured against Σ s_i (|g_i| + |⟨s, g⟩|), the size of the terms whose
 * cancellation forms dx = s ⊙ (g − ⟨s, g⟩): rounding alone keeps the sum within a few units of
 * that, while an error in the method (a wrong sign, a missing term) shows as a large fraction of
 * it. Measured against Σ |dx| instead, correct results would be flagged wherever dx is small
 * next to ⟨s, g⟩ (the built-in example: 5 units; a constant g, whose dx is pure rounding: 4e15).
 */
export function checkInvariants(
  softmax: Float64Array,
  grad: Float64Array,
  g: Float64Array,
  layout: SliceLayout,
  epsilon: number = 2 ** -52,
): InvariantCheck {
  let worstSoftmax = { ulps: 0, slice: -1 };
  let worstGrad = { ulps: 0, slice: -1 };
  let worstGradOfMagnitudes = { ulps: 0, slice: -1 };
  let flaggedSlices = 0;
  forEachSlice(layout, [softmax, grad, g], [], ([s, dx, gs], _, k) => {
    const probabilityTotal = compensatedSum(s);
    if (probabilityTotal !== probabilityTotal) return;
    const softmaxUlps = Math.abs(probabilityTotal - 1) / epsilon;
    const gradTotal = Math.abs(compensatedSum(dx));
    const gradUlps = gradTotal / gradientScale(s, gs) / epsilon || 0;
    const gradOfMagnitudesUlps = gradTotal / sumOfMagnitudes(dx) / epsilon || 0;
    if (softmaxUlps > worstSoftmax.ulps || worstSoftmax.slice < 0) worstSoftmax = { ulps: softmaxUlps, slice: k };
    if (gradUlps > worstGrad.ulps || worstGrad.slice < 0) worstGrad = { ulps: gradUlps, slice: k };
    if (gradOfMagnitudesUlps > worstGradOfMagnitudes.ulps || worstGradOfMagnitudes.slice < 0) {
      worstGradOfMagnitudes = { ulps: gradOfMagnitudesUlps, slice: k };
    }
    if (softmaxUlps > INVARIANT_ULP_LIMIT || gradUlps > INVARIANT_ULP_LIMIT) flaggedSlices++;
  });
  return { softmaxSum: worstSoftmax, gradSum: worstGrad, gradSumOfMagnitudes: worstGradOfMagnitudes, flaggedSlices };
}

/** Σ s_i (|g_i| + |⟨s, g⟩|): how large the terms that cancel into dx are. */
function gradientScale(s: Float64Array, g: Float64Array): number {
  let dot = 0;
  for (let i = 0; i < s.length; i++) dot += s[i] * g[i];
  let scale = 0;
  for (let i = 0; i < s.length; i++) scale += s[i] * (Math.abs(g[i]) + Math.abs(dot));
  return scale;
}

function sumOfMagnitudes(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.abs(values[i]);
  return sum;
}

/** Σ values with Neumaier's compensation: the rounding error of each addition is carried along. */
function compensatedSum(values: Float64Array): number {
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + compensation;
}
