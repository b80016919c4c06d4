import { forEachSlice, type SliceLayout } from '../numeric/slices.js';
import { type SliceBounds } from './allowance.js';

/** One law's worst slice, in units of the dtype's epsilon (or of ε·W for the gradient, below). */
export interface SliceDeviation {
  /** How far the slice's sum is from its law. */
  readonly ulps: number;
  /** How far rounding lets a correct kernel's sum stray there (each op's allowance): beyond it, flagged. */
  readonly bound: number;
  /** The slice, or -1 when no slice could be measured. */
  readonly slice: number;
}

export interface InvariantCheck {
  /** |Σ s − 1|, at the slice where it comes closest to its bound (or goes furthest beyond). */
  readonly softmaxSum?: SliceDeviation;
  /** |Σ dx| / W, W = Σ s_i (|g_i| + |⟨s, g⟩|), at the slice closest to or furthest beyond its bound. */
  readonly gradSum?: SliceDeviation;
  /** The greatest |Σ dx| / Σ |dx|: shown, never flagged (below, why it misfires on correct results). */
  readonly gradSumOfMagnitudes?: { readonly ulps: number; readonly slice: number };
  /** Slices where either sum is beyond its bound. */
  readonly flaggedSlices: number;
}

/**
 * Two laws every softmax result obeys, slice by slice: the probabilities sum to 1, and the
 * gradient sums to 0 (softmax is invariant to adding a constant to every logit, so its Jacobian's
 * rows sum to 0). Sums are compensated (Neumaier), so that the figure is the results' own error,
 * not the summation's. A slice is flagged when its sum strays beyond what rounding allows a
 * correct kernel there (`bounds`, derived from n, the dtype and the arithmetic in each op's allowance): a
 * fixed number of epsilons is no bound for a sum of 50,257 rounded terms.
 *
 * The gradient's sum is shown against W = Σ s_i (|g_i| + |⟨s, g⟩|), the size of the terms whose
 * cancellation forms dx = s ⊙ (g − ⟨s, g⟩), with `s` and `g` those of the run (not the results'):
 * a wrong sign or a missing term shows as a large fraction of it. Against Σ |dx| instead, correct
 * results land far beyond a few units wherever dx is small next to ⟨s, g⟩ (the built-in example:
 * 5 units; a constant g, whose dx is pure rounding: 4e15), so that measure is shown, not flagged.
 *
 * Either quantity may be missing (expected values with one of them); slices without a softmax
 * (NaN bounds) are left out.
 */
export function checkInvariants(
  results: { readonly forward?: Float64Array; readonly grad?: Float64Array },
  s: Float64Array,
  g: Float64Array,
  layout: SliceLayout,
  bounds: SliceBounds,
  epsilon: number,
  law: 'softmax' | 'log_softmax' = 'softmax',
): InvariantCheck {
  const logs = law === 'log_softmax';
  const softmax = results.forward === undefined ? undefined : new WorstSlice();
  const grad = results.grad === undefined ? undefined : new WorstSlice();
  let worstOfMagnitudes = { ulps: 0, slice: -1 };
  let flaggedSlices = 0;
  // A quantity the values lack is gathered as `s` in its place, and never read.
  const inputs = [s, g, results.forward ?? s, results.grad ?? s];
  forEachSlice(layout, inputs, [], ([ss, gs, own, dx], _, k) => {
    let flagged = false;
    const softmaxBound = bounds.softmaxSum[k];
    if (softmax !== undefined && softmaxBound === softmaxBound) {
      flagged = softmax.offer(Math.abs((logs ? compensatedSumOfExponentials(own) : compensatedSum(own)) - 1) / epsilon, softmaxBound / epsilon, k) || flagged;
    }
    const gradBound = bounds.gradSum[k];
    // A non-finite g has no gradient to sum (its dx is NaN or infinite in every kernel).
    if (grad !== undefined && softmaxBound === softmaxBound && Number.isFinite(gradBound)) {
      // Where g is 0 throughout there is no scale to show the sum against; it is shown in plain
      // epsilons then, against the bound (underflow terms only: every correct dx is 0 there).
      const scale = (logs ? logSoftmaxGradientScale(gs) : gradientScale(ss, gs)) || 1;
      const total = Math.abs(compensatedSum(dx));
      // Divided one after the other: scale·ε underflows for a subnormal g.
      flagged = grad.offer(total / scale / epsilon, gradBound / scale / epsilon, k) || flagged;
      const ofMagnitudes = total / sumOfMagnitudes(dx) / epsilon || 0;
      if (ofMagnitudes > worstOfMagnitudes.ulps || worstOfMagnitudes.slice < 0) worstOfMagnitudes = { ulps: ofMagnitudes, slice: k };
    }
    if (flagged) flaggedSlices++;
  });
  return {
    softmaxSum: softmax?.result(),
    gradSum: grad?.result(),
    gradSumOfMagnitudes: grad === undefined ? undefined : worstOfMagnitudes,
    flaggedSlices,
  };
}

/** The slice whose deviation is the greatest share of its bound. */
class WorstSlice {
  private worst: SliceDeviation = { ulps: 0, bound: 0, slice: -1 };
  private worstShare = -1;

  /** Records one slice; true when it is beyond its bound (a NaN sum is). */
  offer(ulps: number, bound: number, slice: number): boolean {
    const beyond = !(ulps <= bound);
    const share = beyond ? (ulps === ulps ? ulps / bound : Infinity) : ulps / bound || 0;
    if (share > this.worstShare) {
      this.worst = { ulps, bound, slice };
      this.worstShare = share;
    }
    return beyond;
  }

  result(): SliceDeviation {
    return this.worst;
  }
}

/** Σ s_i (|g_i| + |⟨s, g⟩|): how large the terms that cancel into dx are. */
function gradientScale(s: Float64Array, g: Float64Array): number {
  let dot = 0;
  for (let i = 0; i < s.length; i++) dot += s[i] * g[i];
  let scale = 0;
  for (let i = 0; i < s.length; i++) scale += s[i] * (Math.abs(g[i]) + Math.abs(dot));
  return scale;
}

/** Σ |g_i| + |Σ g|: how large the terms that cancel into log_softmax's dx = g − s Σg are. */
function logSoftmaxGradientScale(g: Float64Array): number {
  let total = 0;
  let magnitude = 0;
  for (let i = 0; i < g.length; i++) {
    total += g[i];
    magnitude += Math.abs(g[i]);
  }
  return magnitude + Math.abs(total);
}

/** Σ exp(values), compensated: the probabilities a log_softmax holds. */
function compensatedSumOfExponentials(values: Float64Array): number {
  return compensatedSum(values.map(Math.exp));
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
