import { SMALLEST_SUBNORMAL, UNIT_ROUNDOFF, type Tolerance } from '../dtype.js';
import type { Arithmetic } from '../numeric/arithmetic.js';
import { maxPropagatingNaN } from './max.js';
import { forEachSlice, type SliceLayout } from './slices.js';

/**
 * What rounding allows a correct softmax kernel: how far each element of its results may land
 * from the exact ones, and how far each slice's sums may stray from Σ s = 1 and Σ dx = 0.
 *
 * Derived in docs/verdict.md from the roundings of every step such a kernel takes, whatever its
 * form (normalised exponentials, times 1/Σ, or the log-sum-exp; closed form or explicit Jacobian),
 * the order of its sums, and whether backward reads the softmax as stored or kept wider. With
 * u_d, u_c, u_a the unit roundoffs of the dtype, the compute type and the accumulation type, n the
 * slice length, m its largest logit and b the value compared against:
 *
 *   softmax:  allowed_i = atol + (rtol + μ_i)·|b_i| + ν
 *   grad:     allowed_i = atol + (rtol + μ_i)·|b_i| + s_i Σ_j (rtol + μ_j) s_j |g_j| + ν_i
 *   μ_j = (2|x_j − m| + 4 ln n + 12)·u_c + 3n·u_a
 *
 * rtol pays for the two roundings to the dtype (the softmax that backward reads, and the result:
 * 2u_d, which every default tolerance exceeds); μ for the operations and sums in between; the sum
 * over j for the terms whose cancellation forms dx_i = s_i (g_i − ⟨s, g⟩), which a plain
 * rtol·|b_i| ignores: where g_i is near ⟨s, g⟩, a correct bfloat16 kernel can be off by several
 * times |dx_i| itself. ν is the absolute spacing of results below the normal range.
 */
export interface ElementAllowance {
  readonly tolerance: Tolerance;
  /** μ_i: the compute and accumulation types' share, relative to |b_i|. */
  readonly arithmetic: Float64Array;
  /** C_i = s_i Σ_j s_j |g_j|: the size of the terms that cancel into dx_i (gradient only). */
  readonly cancellation?: Float64Array;
  /** s_i Σ_j μ_j s_j |g_j| + ν_i for the gradient; ν for the softmax, the same for every element. */
  readonly absolute: Float64Array | number;
}

/** The allowance of one element split into the terms above, for a report to explain a failure. */
export interface AllowanceParts {
  readonly atol: number;
  /** rtol·|b|. */
  readonly relative: number;
  /** rtol·C_i: what cancellation allows beyond the plain tolerance. */
  readonly cancellation: number;
  /** μ_i·|b| and its share of the cancellation, with underflow: the rounding of the arithmetic. */
  readonly arithmetic: number;
  readonly total: number;
}

/** Per slice: how far a correct kernel's sums may stray from Σ s = 1 and Σ dx = 0. */
export interface SliceBounds {
  readonly softmaxSum: Float64Array;
  readonly gradSum: Float64Array;
}

export interface Allowances {
  readonly softmax: ElementAllowance;
  readonly grad: ElementAllowance;
  readonly slices: SliceBounds;
  /**
   * The sums' bounds for expected values: `slices`, plus, when the tolerance was given (by the
   * input or the flags) rather than the dtype's default, what it allows each element summed over
   * the slice: values printed to 4 decimals, with a tolerance that says so, cannot sum better
   * than their elements are given.
   */
  readonly expectedSlices: SliceBounds;
}

/** `allowanceParts(...).total`, without the parts: the comparisons' inner loop. */
export function allowed(allowance: ElementAllowance, i: number, b: number): number {
  const { rtol, atol } = allowance.tolerance;
  const { absolute, cancellation } = allowance;
  // |b| = 0 skips μ_i, which is infinite for a logit infinitely far below the max.
  const relative = b === 0 ? 0 : (rtol + allowance.arithmetic[i]) * Math.abs(b);
  const extra = typeof absolute === 'number' ? absolute : absolute[i];
  return atol + relative + (cancellation === undefined ? 0 : rtol * cancellation[i]) + extra;
}

export function allowanceParts(allowance: ElementAllowance, i: number, b: number): AllowanceParts {
  const { rtol, atol } = allowance.tolerance;
  const { absolute, cancellation } = allowance;
  const magnitude = Math.abs(b);
  const arithmetic = (b === 0 ? 0 : allowance.arithmetic[i] * magnitude) + (typeof absolute === 'number' ? absolute : absolute[i]);
  return {
    atol,
    relative: rtol * magnitude,
    cancellation: cancellation === undefined ? 0 : rtol * cancellation[i],
    arithmetic,
    total: allowed(allowance, i, b),
  };
}

/**
 * The allowances for one input, from a softmax and gradient close to the exact ones (the closed
 * form's: they set the size of the allowance, which their own rounding changes by a fraction of a
 * percent), the rounded inputs and the arithmetic a kernel is taken to run in.
 */
export function roundingAllowances(
  x: Float64Array,
  g: Float64Array,
  softmax: Float64Array,
  grad: Float64Array,
  layout: SliceLayout,
  arithmetic: Arithmetic,
  tolerance: Tolerance,
  toleranceGiven = false,
): Allowances {
  const givenAtol = toleranceGiven ? tolerance.atol : 0;
  const givenRtol = toleranceGiven ? tolerance.rtol : 0;
  const ud = UNIT_ROUNDOFF[arithmetic.dtype];
  const uc = UNIT_ROUNDOFF[arithmetic.compute];
  const ua = UNIT_ROUNDOFF[arithmetic.accumulate];
  const tinyStored = SMALLEST_SUBNORMAL[arithmetic.dtype];
  const tinyComputed = SMALLEST_SUBNORMAL[arithmetic.compute];
  const tinySummed = SMALLEST_SUBNORMAL[arithmetic.accumulate];
  const softmaxUnderflow = tinyStored + tinyComputed;

  const mu = new Float64Array(x.length);
  const cancellation = new Float64Array(x.length);
  const absolute = new Float64Array(x.length);
  const softmaxSum = new Float64Array(layout.count);
  const gradSum = new Float64Array(layout.count);
  const expectedSoftmaxSum = new Float64Array(layout.count);
  const expectedGradSum = new Float64Array(layout.count);
  forEachSlice(layout, [x, g, softmax, grad], [mu, cancellation, absolute], ([xs, gs, ss, dxs], [mus, cs, as], k) => {
    const n = xs.length;
    const max = maxPropagatingNaN(xs);
    const shared = (4 * Math.log(n) + 12) * uc + 3 * n * ua;
    let weight = 0; // Σ s_j |g_j|
    let weightedMu = 0; // Σ μ_j s_j |g_j|
    let gMagnitude = 0; // Σ |g_j|
    let softmaxMu = 0; // Σ s_j μ_j
    let weightedBound = 0; // Σ (u_d + μ_j) s_j |g_j|
    for (let j = 0; j < n; j++) {
      // A probability of 0 (a masked logit, or one too far below the max) is 0 in every correct
      // kernel and weighs nothing in the sums; its μ would be infinite for a masked logit.
      const s = ss[j];
      const m = s === 0 ? 0 : 2 * Math.abs(xs[j] - max) * uc + shared;
      mus[j] = m;
      gMagnitude += Math.abs(gs[j]);
      if (s === 0) continue;
      const w = s * Math.abs(gs[j]);
      weight += w;
      weightedMu += m * w;
      softmaxMu += s * m;
      weightedBound += (ud + m) * w;
    }
    // Results below the normal range. A stored gradient, or a stored probability, is off by up to
    // the dtype's smallest subnormal τ_d: s_i's error is multiplied by |g_i − ⟨s, g⟩|, and every
    // s_j's reaches ⟨s, g⟩ times |g_j|, which dx_i takes times s_i. Products that underflow in the
    // compute type are off by its smallest subnormal each, times |g_j| (README, "How far the plain
    // methods can land"); and each of a sum's n additions by the accumulation type's, where
    // partial sums fall below its normal range (a gradient of tiny g).
    const underflowShared = tinyStored * (1 + weight) + (gMagnitude + n + 1) * tinyComputed + n * tinySummed;
    let gradBound = weightedBound;
    let gradMagnitude = 0;
    for (let i = 0; i < n; i++) {
      const underflow = underflowShared + tinyStored * (Math.abs(gs[i]) + ss[i] * gMagnitude);
      cs[i] = ss[i] * weight;
      as[i] = ss[i] * weightedMu + underflow;
      gradBound += (2 * ud + mus[i]) * Math.abs(dxs[i]) + underflow;
      gradMagnitude += Math.abs(dxs[i]);
    }
    softmaxSum[k] = ud + softmaxMu + n * softmaxUnderflow;
    gradSum[k] = gradBound;
    // Σ_i (atol + rtol·(|b_i| + C_i)) of a given tolerance: Σ s_i = 1 and Σ_i C_i = Σ s_j |g_j|.
    expectedSoftmaxSum[k] = softmaxSum[k] + n * givenAtol + givenRtol;
    expectedGradSum[k] = gradBound + n * givenAtol + givenRtol * (gradMagnitude + weight);
  });
  return {
    softmax: { tolerance, arithmetic: mu, absolute: softmaxUnderflow },
    grad: { tolerance, arithmetic: mu, cancellation, absolute },
    slices: { softmaxSum, gradSum },
    expectedSlices: { softmaxSum: expectedSoftmaxSum, gradSum: expectedGradSum },
  };
}
