import { UNIT_ROUNDOFF, type Tolerance } from '../../dtype.js';
import type { CrossEntropySpec } from './cross-entropy-spec.js';
import type { LossLayer } from './cross-entropy.js';
import { forEachSlice, sliceStart, type SliceLayout } from '../../numeric/slices.js';
import type { Arithmetic } from '../../numeric/arithmetic.js';
import { logSoftmaxAllowances, logSoftmaxMu, type LogSoftmaxElementAllowance } from '../log_softmax/log-softmax-allowance.js';
import type { AllowanceRule, Allowances, ElementAllowance, SliceBounds } from '../../comparisons/allowance.js';

/**
 * What rounding allows a correct cross_entropy kernel (docs/verdict.md, "cross_entropy").
 *
 * The gradient is log_softmax's backward applied to h = dL/dy = −w ⊙ q · scale: its allowance is
 * log_softmax's with g = h, plus h's own rounding (q's smoothing, w·q, the scale g/D with D stored
 * in the dtype, h stored in the dtype: 3u_c + 3u_d of |h_i| + s_i Σ|h|).
 *
 * The loss, −Σ_n Σ_c w_c q_nc y_nc / D (or per sample), derived as the gradients' are, along the
 * way PyTorch computes it: with T_n = Σ_c |w_c q_nc y_nc| and T = Σ_n T_n,
 *
 *   allowed = atol + rtol·max(|b|, T/|D|) + (Σ_n A_n + R + T·δ_D/|D|) / |D| + u_d·T/|D|
 *   A_n = Σ_c |w_c q_nc| (μ_nc + 2u_c) + (u_d + C·u_a + 2u_c + p·u_d)·T_n
 *
 * rtol applies once to the loss, or to T/|D| where the terms cancel (weights of both signs); each
 * y is off by its arithmetic μ (log_softmax's) and its store in the dtype (u_d·|y|); its product
 * with w q rounds in the dtype where there is one (p = 1 with weights, 3 with smoothing or soft
 * targets, which PyTorch composes from more products, 0 for plain class indices, −y_t exactly); the
 * class sums C·u_a. R is the reduction's own rounding: for class indices, PyTorch's nll_loss sums in
 * the dtype itself, in a cascade of 16-term partial sums (LossNLL.cpp), each addition off by half
 * an ulp of its partial sum in the dtype; soft targets' sums accumulate in float32 (N·u_a·T), then
 * are stored (u_d·T). δ_D: D's own (the weights' cascade in the dtype, or the count stored in it);
 * the division is stored in the dtype (u_d of T/|D| ≥ |b|). Half an ulp is u·2^⌊log₂ v⌋ for a
 * partial sum bounded by v = Σ|terms| so far plus the errors before it: half u·v where v lies low
 * in its binade, which is what lets a bfloat16 mean over 16 samples be judged to about 3 % + rtol
 * rather than 8 %.
 */
export interface LossElementAllowance extends ElementAllowance {
  readonly atol: number;
  readonly rtol: number;
  readonly cancellationRtol: number;
  readonly quantity: 'loss';
  readonly terms: {
    readonly layout: SliceLayout;
    readonly arithmetic: Float64Array;
    /** T/|D| (or T_n): the size of the terms the loss sums, which rtol covers where they cancel. */
    readonly magnitude: Float64Array;
  };
}

/** The loss's rule: the terms above, sample by sample (or the one loss). */
export const LOSS_RULE: AllowanceRule<LossElementAllowance> = {
  rounding(allowance, i, b) {
    const { relative, cancellation, arithmetic } = lossParts(allowance, i, b);
    return relative + cancellation + arithmetic;
  },
  parts: lossParts,
};

/** The allowance's parts for loss element i against the value b: rtol·|b|, rtol on what cancels, the arithmetic. */
export function lossParts(allowance: LossElementAllowance, i: number, b: number): { relative: number; cancellation: number; arithmetic: number } {
  const size = b === 0 ? 0 : Math.abs(b);
  const beyond = allowance.terms.magnitude[i] - size;
  return {
    relative: allowance.rtol * size,
    cancellation: beyond > 0 ? allowance.rtol * beyond : 0,
    arithmetic: allowance.terms.arithmetic[i],
  };
}

export interface CrossEntropyAllowances extends Allowances {
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
  const weighted = spec.weight !== undefined;
  const composed = spec.targetKind === 'probability' || spec.labelSmoothing !== 0;
  // The products w·q·y in the dtype: none for plain class indices (−y_t), one with weights, three
  // where PyTorch composes smoothing or soft targets from more.
  const products = composed ? 3 : weighted ? 1 : 0;
  const perSample = new Float64Array(layout.count);
  const magnitudes = new Float64Array(layout.count);
  forEachSlice(layout, [y, layer.weighted], [], ([ys, wq], _, k) => {
    if (layer.counted[k] === 0) return;
    const first = sliceStart(layout, k);
    let share = 0;
    let magnitude = 0;
    for (let c = 0; c < classes; c++) {
      if (wq[c] === 0) continue;
      magnitude += Math.abs(wq[c] * ys[c]);
      share += Math.abs(wq[c]) * (logSoftmaxMu(terms, first + c * layout.stride, k) + 2 * uc);
    }
    perSample[k] = share + (ud + classes * ua + 2 * uc + products * ud) * magnitude;
    magnitudes[k] = magnitude;
  });
  let arithmeticTerms: Float64Array;
  let magnitudeTerms: Float64Array;
  if (spec.reduction === 'none') {
    // Each sample's loss stored in the dtype: u_d of T_n ≥ |loss_n|.
    arithmeticTerms = perSample.map((share, k) => share + ud * magnitudes[k]);
    magnitudeTerms = magnitudes;
  } else {
    let share = 0;
    let magnitude = 0;
    for (let k = 0; k < layout.count; k++) {
      share += perSample[k];
      magnitude += magnitudes[k];
    }
    // |D|: class weights may be negative (PyTorch takes them), and so then may D.
    const divisor = Math.abs(layer.divisor);
    const counted = (k: number, size: number): number => (layer.counted[k] === 1 ? size : NaN);
    const reduction =
      spec.targetKind === 'index'
        ? cascadeSumBound(Array.from(magnitudes, (size, k) => counted(k, size)), ud)
        : (layout.count * ua + ud) * magnitude;
    const divisorError =
      spec.reduction !== 'mean'
        ? 0
        : spec.targetKind === 'index' && weighted
          ? cascadeSumBound(Array.from(magnitudes, (_, k) => counted(k, Math.abs(spec.weight![spec.target.data[k]]))), ud)
          : Math.abs(arithmetic.store(countOf(layer)) - countOf(layer));
    const total = magnitude / divisor;
    arithmeticTerms = Float64Array.of((share + reduction) / divisor + total * (divisorError / divisor) * (1 + 2 * ud) + ud * total);
    magnitudeTerms = Float64Array.of(total);
  }
  const forward: LossElementAllowance = {
    atol: tolerance.atol,
    rtol,
    cancellationRtol,
    quantity: 'loss',
    rule: LOSS_RULE,
    terms: { layout: { length: 1, stride: 1, count: arithmeticTerms.length }, arithmetic: arithmeticTerms, magnitude: magnitudeTerms },
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

/**
 * What rounding can add to a sum of terms of the given sizes formed as PyTorch's nll_loss forms
 * it in the dtype (unit roundoff u): sample b's term added to a level-0 partial sum, which moves
 * into level 1 whenever b is a multiple of 2^level_power, level 1 into level 2 at multiples of
 * 2^(2·level_power), and so on; the levels added up at the end (LossNLL.cpp and LossNLL2d.cpp:
 * level_power = max(4, ⌊⌈log₂ N⌉ / 8⌋), b counting ignored samples too, which add nothing). Each
 * addition to a non-zero partial sum is off by at most half an ulp of its result, bounded by the
 * sizes summed into it and the errors before. `sizes[b]` is NaN for an ignored sample.
 */
export function cascadeSumBound(sizes: readonly number[], u: number): number {
  const levels = 8;
  const power = Math.max(4, Math.floor(Math.ceil(Math.log2(Math.max(1, sizes.length))) / levels));
  const mask = (1 << power) - 1;
  // Each level's partial sum, as a bound on its size (terms and errors so far).
  const partial = new Float64Array(levels);
  let error = 0;
  const add = (level: number, size: number): void => {
    const before = partial[level];
    partial[level] += size;
    if (before === 0 || size === 0) return;
    const rounding = halfUlp(partial[level], u);
    partial[level] += rounding;
    error += rounding;
  };
  sizes.forEach((size, b) => {
    if (size !== size) return;
    add(0, size);
    for (let j = 0; j + 1 < levels; j++) {
      if ((b & (mask << (j * power))) !== 0) break;
      add(j + 1, partial[j]);
      partial[j] = 0;
    }
  });
  let total = 0;
  for (let j = 0; j < levels; j++) {
    if (partial[j] === 0) continue;
    const before = total;
    total += partial[j];
    if (before === 0) continue;
    const rounding = halfUlp(total, u);
    total += rounding;
    error += rounding;
  }
  return error;
}

/** What the mean divides by without weights: the samples that count (all, for soft targets), as an integer. */
function countOf(layer: LossLayer): number {
  let count = 0;
  for (let k = 0; k < layer.counted.length; k++) count += layer.counted[k];
  return count;
}

/** Half an ulp, in a type of unit roundoff u, of any value of magnitude up to v: u·2^⌊log₂ v⌋ (0 for 0). */
export function halfUlp(v: number, u: number): number {
  if (!(v > 0)) return 0;
  return v === Infinity ? Infinity : u * 2 ** Math.floor(Math.log2(v));
}
