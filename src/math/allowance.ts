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
 *   μ_j = (2|x_j − m| + 4 ln n + 12)·u_c + 3n·u_a   (first order; taken as μ/(1 − μ))
 *
 * rtol pays for the two roundings to the dtype (the softmax that backward reads, and the result:
 * 2u_d, which every default tolerance exceeds, and below which a given rtol is raised); μ for the
 * operations and sums in between; the sum over j for the terms whose cancellation forms
 * dx_i = s_i (g_i − ⟨s, g⟩), which a plain rtol·|b_i| ignores: where g_i is near ⟨s, g⟩, a correct
 * bfloat16 kernel can be off by several times |dx_i| itself. ν is the absolute spacing of results
 * below the normal range.
 */
import { DEFAULT_TOLERANCE, SMALLEST_SUBNORMAL, UNIT_ROUNDOFF, type Tolerance } from '../dtype.js';
import type { Arithmetic } from '../numeric/arithmetic.js';
import { maxPropagatingNaN } from './max.js';
import { forEachSlice, type SliceLayout } from './slices.js';

/** One quantity's allowances, element by element (the terms above). */
export interface ElementAllowance {
  readonly atol: number;
  /** rtol on |b|, at least 2u_d: a result read back and stored again in the dtype. */
  readonly rtol: number;
  /** rtol on the cancellation term, at least u_d: the stored softmax ⟨s, g⟩ is formed from. */
  readonly cancellationRtol: number;
  /** μ_i: the compute and accumulation types' share, relative to |b_i|. */
  readonly arithmetic: Float64Array;
  /** C_i = s_i Σ_j s_j |g_j|: the size of the terms that cancel into dx_i (gradient only). */
  readonly cancellation?: Float64Array;
  /** s_i Σ_j μ_j s_j |g_j| + ν_i for the gradient; ν for the softmax, the same for every element. */
  readonly absolute: Float64Array | number;
  /**
   * Both sides are rounded results (one method against another), not one against the exact
   * value: each may be off by the whole rounding allowance, in opposite directions.
   */
  readonly bothSidesRounded?: boolean;
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
   * The sums' bounds for expected values: `slices`, plus, when the tolerance is looser than the
   * dtype's default, what it allows each element summed over the slice. A looser tolerance says
   * the values are approximate to that extent (printed to 4 decimals, a fast exponential), and
   * their sums cannot be better.
   */
  readonly expectedSlices: SliceBounds;
}

/** A softmax and gradient close to the exact ones, which set the allowances' size, and the rounded inputs. */
export interface AllowanceInputs {
  readonly x: Float64Array;
  readonly g: Float64Array;
  readonly softmax: Float64Array;
  readonly grad: Float64Array;
  readonly layout: SliceLayout;
}

/** The same allowance for comparing two rounded results with each other. */
export function bothSidesRounded(allowance: ElementAllowance): ElementAllowance {
  return { ...allowance, bothSidesRounded: true };
}

/** `allowanceParts(...).total`, without the parts: the comparisons' inner loop. */
export function allowed(allowance: ElementAllowance, i: number, b: number): number {
  const { absolute, cancellation } = allowance;
  // μ_i is infinite where the arithmetic bounds nothing (a sum of more than 1/(3u_a) terms);
  // a |b| of 0 then adds nothing rather than NaN.
  const relative = b === 0 ? 0 : (allowance.rtol + allowance.arithmetic[i]) * Math.abs(b);
  const extra = typeof absolute === 'number' ? absolute : absolute[i];
  const rounding = relative + (cancellation === undefined ? 0 : allowance.cancellationRtol * cancellation[i]) + extra;
  return allowance.atol + (allowance.bothSidesRounded ? 2 * rounding : rounding);
}

export function allowanceParts(allowance: ElementAllowance, i: number, b: number): AllowanceParts {
  const { absolute, cancellation } = allowance;
  const sides = allowance.bothSidesRounded ? 2 : 1;
  const magnitude = Math.abs(b);
  const arithmetic = (b === 0 ? 0 : allowance.arithmetic[i] * magnitude) + (typeof absolute === 'number' ? absolute : absolute[i]);
  return {
    atol: allowance.atol,
    relative: sides * allowance.rtol * magnitude,
    cancellation: cancellation === undefined ? 0 : sides * allowance.cancellationRtol * cancellation[i],
    arithmetic: sides * arithmetic,
    total: allowed(allowance, i, b),
  };
}

/** The allowances for one input in the arithmetic a kernel is taken to run in. */
export function roundingAllowances(inputs: AllowanceInputs, arithmetic: Arithmetic, tolerance: Tolerance): Allowances {
  const { x, g, softmax, grad, layout } = inputs;
  const ud = UNIT_ROUNDOFF[arithmetic.dtype];
  const uc = UNIT_ROUNDOFF[arithmetic.compute];
  const ua = UNIT_ROUNDOFF[arithmetic.accumulate];
  const tinyStored = SMALLEST_SUBNORMAL[arithmetic.dtype];
  const tinyComputed = SMALLEST_SUBNORMAL[arithmetic.compute];
  const tinySummed = SMALLEST_SUBNORMAL[arithmetic.accumulate];
  const softmaxUnderflow = tinyStored + tinyComputed;
  const baseline = DEFAULT_TOLERANCE[arithmetic.dtype];
  const looser = tolerance.rtol > baseline.rtol || tolerance.atol > baseline.atol;
  const [slackAtol, slackRtol] = looser ? [tolerance.atol, tolerance.rtol] : [0, 0];

  const mu = new Float64Array(x.length);
  const cancellation = new Float64Array(x.length);
  const absolute = new Float64Array(x.length);
  const softmaxSum = new Float64Array(layout.count);
  const gradSum = new Float64Array(layout.count);
  const expectedSoftmaxSum = new Float64Array(layout.count);
  const expectedGradSum = new Float64Array(layout.count);
  forEachSlice(layout, [x, g, softmax, grad], [mu, cancellation, absolute], ([xs, gs, ss, dxs], [mus, cancels, absolutes], k) => {
    const n = xs.length;
    const max = maxPropagatingNaN(xs);
    const shared = (4 * Math.log(n) + 12) * uc + 3 * n * ua;
    let weight = 0; // Σ s_j |g_j|
    let weightedMu = 0; // Σ μ_j s_j |g_j|
    let softmaxMu = 0; // Σ s_j μ_j
    let weightedBound = 0; // Σ (u_d + μ_j) s_j |g_j|
    let gTinyStored = 0; // Σ τ_d |g_j|, summed term by term so that a huge g cannot overflow it
    let gTinyComputed = 0; // Σ τ_c |g_j|
    for (let j = 0; j < n; j++) {
      const s = ss[j];
      const magnitude = Math.abs(gs[j]);
      gTinyStored += tinyStored * magnitude;
      gTinyComputed += tinyComputed * magnitude;
      // A probability of 0 (a masked logit, or one too far below the max) is 0 in every correct
      // kernel and weighs nothing in the sums.
      const firstOrder = s === 0 ? 0 : 2 * Math.abs(xs[j] - max) * uc + shared;
      // First-order bounds hold while they are small; μ/(1 − μ) bounds the higher orders too.
      const muJ = firstOrder < 1 ? firstOrder / (1 - firstOrder) : Infinity;
      mus[j] = muJ;
      if (s === 0) continue;
      softmaxMu += s * muJ;
      const w = s * magnitude;
      // A g_j of 0 weighs nothing, even against an infinite μ_j.
      if (w === 0) continue;
      weight += w;
      weightedMu += muJ * w;
      weightedBound += (2 * ud + muJ) * w;
    }
    // Results below the normal range. A stored gradient, or a stored probability, is off by up to
    // the dtype's smallest subnormal τ_d: s_i's error is multiplied by |g_i − ⟨s, g⟩|, and every
    // s_j's reaches ⟨s, g⟩ times |g_j|, which dx_i takes times s_i. Products that underflow in the
    // compute type are off by its smallest subnormal each, times |g_j| (README, "How far the plain
    // methods can land"); and each of a sum's n additions by the accumulation type's, where
    // partial sums fall below its normal range (a gradient of tiny g).
    const underflowShared = tinyStored * (1 + weight) + gTinyComputed + (n + 1) * tinyComputed + n * tinySummed;
    // The sums' bounds take each stored value as off by 2u_d, not u_d: a store that truncates
    // (toward zero, a Triton option) errs that far, all in one direction.
    let gradBound = weightedBound;
    let gradMagnitude = 0;
    for (let i = 0; i < n; i++) {
      const underflow = underflowShared + tinyStored * Math.abs(gs[i]) + ss[i] * gTinyStored;
      cancels[i] = ss[i] * weight;
      absolutes[i] = (ss[i] === 0 ? 0 : ss[i] * weightedMu) + underflow;
      gradBound += (4 * ud + mus[i]) * Math.abs(dxs[i]) + underflow;
      gradMagnitude += Math.abs(dxs[i]);
    }
    softmaxSum[k] = 2 * ud + softmaxMu + n * softmaxUnderflow;
    gradSum[k] = gradBound;
    // Σ_i (atol + rtol·(|b_i| + C_i)) of a looser tolerance: Σ s_i = 1 and Σ_i C_i = Σ s_j |g_j|.
    expectedSoftmaxSum[k] = softmaxSum[k] + n * slackAtol + slackRtol;
    expectedGradSum[k] = gradBound + n * slackAtol + slackRtol * (gradMagnitude + weight);
  });
  const common = { atol: tolerance.atol, rtol: Math.max(tolerance.rtol, 2 * ud), cancellationRtol: Math.max(tolerance.rtol, ud), arithmetic: mu };
  return {
    softmax: { ...common, absolute: softmaxUnderflow },
    grad: { ...common, cancellation, absolute },
    slices: { softmaxSum, gradSum },
    expectedSlices: { softmaxSum: expectedSoftmaxSum, gradSum: expectedGradSum },
  };
}
