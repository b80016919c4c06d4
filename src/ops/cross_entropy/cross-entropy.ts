import type { CrossEntropySpec } from './cross-entropy-spec.js';
import { FLOAT64_ARITHMETIC, type Arithmetic } from '../../numeric/arithmetic.js';
import { accurateLogSoftmaxSlice } from '../log_softmax/accurate-log-softmax.js';
import { maxPropagatingNaN } from '../../numeric/max.js';
import { logSoftmaxClosedFormForwardSlice, runLogSoftmaxJacobianMethod } from '../log_softmax/log-softmax.js';
import { forEachSlice, type SliceLayout } from '../../numeric/slices.js';
import { type MethodResult } from '../../methods/method-result.js';

/**
 * cross_entropy as torch.nn.functional.cross_entropy defines it, over slices along the class
 * dimension (one slice a sample). With y = log_softmax(x), q the sample's target distribution
 * (index t: (1 − ε)·[c = t] + ε/C; probabilities p: (1 − ε)·p + ε/C; an ignored sample: 0), w the
 * class weights (1 without):
 *
 *   loss_n = −Σ_c w_c q_c y_c,   L = Σ_n loss_n / D (mean: D = Σ w_t over the counted index
 *   targets, or N for probabilities; sum: D = 1), or loss_n itself (none);
 *   dL/dy_c = −w_c q_c · scale_n,   scale_n = g/D (mean, sum) or g_n (none).
 *
 * The two methods, as for log_softmax, share nothing but the loss's gradient with respect to y
 * (its definition, not a computation of either):
 * - explicit Jacobian: y = x − lse, then dx = Jᵀ·h with every entry δ_ij − s_j of log_softmax's
 *   Jacobian, h = dL/dy; the loss as −Σ_c h-weights·y_c;
 * - closed form: y as PyTorch's kernel, dx_c = scale·(s_c Σ_c' w_c' q_c' − w_c q_c); the loss as
 *   PyTorch composes it, nll (−w_t y_t) and the smoothing term (−Σ_c w_c y_c / C) apart.
 */

/** What the loss makes of each sample: the weighted target w ⊙ q per element, and per sample the scale and whether it counts. */
export interface LossLayer {
  /** w_c q_c, element by element (x's shape). */
  readonly weighted: Float64Array;
  /** dL/dy = −w_c q_c · scale_n, element by element; 0 for an ignored sample. */
  readonly h: Float64Array;
  /** scale_n per sample (slice). */
  readonly scales: Float64Array;
  /** 1 for a sample that counts, 0 for one whose target is ignore_index. */
  readonly counted: Uint8Array;
  /** D: what mean divides by (1 for sum and none). */
  readonly divisor: number;
}

/**
 * The loss layer in arithmetic `a`: q, w ⊙ q, D (stored in the dtype, as PyTorch's is), the scales
 * and h. Formed once per input and arithmetic: the methods, the allowances and the laws of one run
 * all read it (it was formed four times a run), and nothing writes to it.
 */
export function lossLayer(spec: CrossEntropySpec, g: Float64Array, layout: SliceLayout, a: Arithmetic = FLOAT64_ARITHMETIC): LossLayer {
  const key = `${a.dtype} ${a.compute} ${a.accumulate} ${layout.length} ${layout.stride} ${layout.count}`;
  let layers = LAYERS.get(spec)?.get(g);
  if (layers === undefined) {
    layers = new Map();
    const byG = LAYERS.get(spec) ?? new WeakMap<Float64Array, Map<string, LossLayer>>();
    byG.set(g, layers);
    LAYERS.set(spec, byG);
  }
  let layer = layers.get(key);
  if (layer === undefined) {
    layer = formLossLayer(spec, g, layout, a);
    layers.set(key, layer);
  }
  return layer;
}

/** The layers formed, by the spec and the g they were formed from (kept while both are). */
const LAYERS = new WeakMap<CrossEntropySpec, WeakMap<Float64Array, Map<string, LossLayer>>>();

function formLossLayer(spec: CrossEntropySpec, g: Float64Array, layout: SliceLayout, a: Arithmetic): LossLayer {
  const { round, roundSum, store } = a;
  const classes = layout.length;
  const size = classes * layout.count;
  const weighted = new Float64Array(size);
  const counted = new Uint8Array(layout.count);
  const keep = round(1 - spec.labelSmoothing);
  const spread = round(spec.labelSmoothing / classes);
  const weightOf = (c: number): number => spec.weight?.[c] ?? 1;
  let weightSum = 0;
  forEachSlice(layout, [], [weighted], (_, [wq], k) => {
    if (spec.targetKind === 'index') {
      const t = spec.target.data[k];
      // forEachSlice reuses its output buffer for a strided layout: every slice writes all of it.
      wq.fill(0);
      if (t === spec.ignoreIndex) return;
      counted[k] = 1;
      weightSum = roundSum(weightSum + weightOf(t));
      for (let c = 0; c < classes; c++) wq[c] = round(weightOf(c) * (c === t ? round(keep + spread) : spread));
    } else {
      counted[k] = 1;
      for (let c = 0; c < classes; c++) {
        const p = spec.target.data[sliceIndex(layout, k, c)];
        wq[c] = round(weightOf(c) * round(round(keep * p) + spread));
      }
    }
  });
  const divisor =
    spec.reduction === 'sum' || spec.reduction === 'none' ? 1 : store(spec.targetKind === 'index' ? round(weightSum) : layout.count);
  const scales = new Float64Array(layout.count);
  for (let k = 0; k < layout.count; k++) scales[k] = spec.reduction === 'none' ? g[k] : round(g[0] / divisor);
  const h = new Float64Array(size);
  forEachSlice(layout, [weighted], [h], ([wq], [hs], k) => {
    // A class that is no term of the loss has no gradient to scale: 0, as PyTorch's nll backward
    // leaves it, even when the scale is not finite (a mean over weights that sum to 0).
    for (let c = 0; c < classes; c++) hs[c] = counted[k] === 0 || !isLossTerm(spec, k, c) ? 0 : store(round(-wq[c] * scales[k]));
  });
  return { weighted, h, scales, counted, divisor };
}

/**
 * Whether class c of sample k is a term of the loss (and has a gradient from it): always, but for
 * an index target without smoothing, whose loss is its own class's nll alone. PyTorch forms the
 * target's −w_t·y_t whatever w_t (0·(−Infinity) is NaN, 0·(g/0) too) and never the others' 0·y_c,
 * so a masked class there is no NaN, and its gradient from the loss is 0.
 */
export function isLossTerm(spec: CrossEntropySpec, k: number, c: number): boolean {
  return spec.targetKind === 'probability' || spec.labelSmoothing !== 0 || spec.target.data[k] === c;
}

/**
 * An ignored sample's gradient, as PyTorch's log_softmax backward makes it of h = 0:
 * 0 − exp(y_c)·0, which is 0 but where y_c is NaN (a sample whose logits are all −Infinity, or
 * hold a NaN or +Infinity: padding rows are often both masked and ignored).
 */
export function ignoredSampleGradient(y: Float64Array, dx: Float64Array): void {
  for (let c = 0; c < y.length; c++) dx[c] = y[c] === y[c] ? 0 : NaN;
}

/**
 * A counted sample's gradient when its scale is ±Infinity or NaN: h_c = −w_c q_c·scale (0 where c is
 * no term of the loss) and dx = h − s·Σh in float64, as PyTorch evaluates them (every element is
 * then ±Infinity or NaN: there is no finite value to round).
 */
export function nonFiniteScaleGradient(xs: Float64Array, wq: Float64Array, spec: CrossEntropySpec, k: number, scale: number, dx: Float64Array): void {
  const C = xs.length;
  const h = new Float64Array(C);
  let total = 0;
  for (let c = 0; c < C; c++) {
    h[c] = isLossTerm(spec, k, c) ? -wq[c] * scale : 0;
    total += h[c];
  }
  const max = maxPropagatingNaN(xs);
  for (let c = 0; c < C; c++) dx[c] = h[c] - Math.exp(xs[c] - max) * total;
}

/** Flat index of class c in slice k. */
function sliceIndex(layout: SliceLayout, k: number, c: number): number {
  const outer = Math.floor(k / layout.stride);
  return outer * layout.length * layout.stride + (k % layout.stride) + c * layout.stride;
}

/** The loss from per-sample losses: their sum over D (mean, sum), or each (none; ignored samples 0). */
function reduce(spec: CrossEntropySpec, perSample: Float64Array, layer: LossLayer, a: Arithmetic): Float64Array {
  if (spec.reduction === 'none') return perSample.map((v, k) => (layer.counted[k] === 0 ? 0 : a.store(v)));
  let total = 0;
  for (let k = 0; k < perSample.length; k++) if (layer.counted[k] === 1) total = a.roundSum(total + perSample[k]);
  return Float64Array.of(a.store(a.round(a.round(total) / layer.divisor)));
}

export function runCrossEntropyJacobianMethod(x: Float64Array, g: Float64Array, spec: CrossEntropySpec, layout: SliceLayout, a: Arithmetic = FLOAT64_ARITHMETIC): MethodResult {
  const layer = lossLayer(spec, g, layout, a);
  const { forward: y, grad } = runLogSoftmaxJacobianMethod(x, layer.h, layout, a);
  return crossEntropyOfLogSoftmax(y, grad, spec, layer, layout, a);
}

/**
 * The explicit method's loss and gradient from log_softmax's explicit method run on h (here, or
 * with its columns shared among threads: the same bits): the loss −Σ_c w_c q_c y_c from y, and an
 * ignored sample's gradient (ignoredSampleGradient: its h is 0, but its scale may be infinite).
 */
export function crossEntropyOfLogSoftmax(y: Float64Array, grad: Float64Array, spec: CrossEntropySpec, layer: LossLayer, layout: SliceLayout, a: Arithmetic): MethodResult {
  const perSample = new Float64Array(layout.count);
  const zeroed = grad.slice();
  forEachSlice(layout, [y, layer.weighted, grad], [zeroed], ([ys, wq, dx], [out], k) => {
    if (layer.counted[k] === 0) {
      ignoredSampleGradient(ys, out);
      return;
    }
    out.set(dx);
    let sum = 0;
    for (let c = 0; c < ys.length; c++) if (isLossTerm(spec, k, c)) sum = a.roundSum(sum + a.round(wq[c] * ys[c]));
    perSample[k] = a.round(-sum);
  });
  return { forward: reduce(spec, perSample, layer, a), grad: zeroed };
}

export function runCrossEntropyClosedFormMethod(x: Float64Array, g: Float64Array, spec: CrossEntropySpec, layout: SliceLayout, a: Arithmetic = FLOAT64_ARITHMETIC): MethodResult {
  const { round, roundSum, store } = a;
  const layer = lossLayer(spec, g, layout, a);
  const y = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  const perSample = new Float64Array(layout.count);
  const classes = layout.length;
  const keep = round(1 - spec.labelSmoothing);
  const smoothing = round(spec.labelSmoothing / classes);
  forEachSlice(layout, [x, layer.weighted], [y, grad], ([xs, wq], [ys, dx], k) => {
    logSoftmaxClosedFormForwardSlice(xs, ys, a);
    if (layer.counted[k] === 0) {
      ignoredSampleGradient(ys, dx);
      return;
    }
    if (spec.targetKind === 'index') {
      // nll and the smoothing term apart, as PyTorch composes them.
      const t = spec.target.data[k];
      const weightOf = (c: number): number => spec.weight?.[c] ?? 1;
      const nll = round(-round(weightOf(t) * ys[t]));
      let smooth = 0;
      if (spec.labelSmoothing !== 0) for (let c = 0; c < classes; c++) smooth = roundSum(smooth + round(weightOf(c) * ys[c]));
      perSample[k] = spec.labelSmoothing === 0 ? nll : round(round(keep * nll) + round(-round(smooth) * smoothing));
    } else {
      let sum = 0;
      for (let c = classes - 1; c >= 0; c--) sum = roundSum(sum + round(wq[c] * ys[c]));
      perSample[k] = round(-sum);
    }
    let total = 0;
    for (let c = 0; c < classes; c++) total = roundSum(total + wq[c]);
    const weightTotal = round(total);
    const scale = layer.scales[k];
    for (let c = 0; c < classes; c++) dx[c] = store(round(scale * round(round(round(Math.exp(ys[c])) * weightTotal) - wq[c])));
  });
  return { forward: reduce(spec, perSample, layer, a), grad };
}

/**
 * The judge of expected values: log_softmax and dx = h − s·Σh (= scale·(s W − w ⊙ q)) in
 * double-double (accurate-log-softmax.ts), h in float64; the loss by compensated sums in float64.
 */
export function runAccurateCrossEntropyFloat64(x: Float64Array, g: Float64Array, spec: CrossEntropySpec, layout: SliceLayout): MethodResult {
  const layer = lossLayer(spec, g, layout);
  const y = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  const perSample = new Float64Array(layout.count);
  forEachSlice(layout, [x, layer.h, layer.weighted], [y, grad], ([xs, hs, wq], [ys, dx], k) => {
    accurateLogSoftmaxSlice(xs, hs, ys, dx);
    if (layer.counted[k] === 0) ignoredSampleGradient(ys, dx);
    else if (!Number.isFinite(layer.scales[k])) nonFiniteScaleGradient(xs, wq, spec, k, layer.scales[k], dx);
    let sum = 0;
    let compensation = 0;
    for (let c = 0; c < ys.length; c++) {
      if (!isLossTerm(spec, k, c)) continue;
      const term = wq[c] * ys[c];
      const t = sum + term;
      // (A non-finite term, a masked class with a target weight, makes the loss what it makes it.)
      if (Number.isFinite(t)) compensation += Math.abs(sum) >= Math.abs(term) ? sum - t + term : term - t + sum;
      sum = t;
    }
    perSample[k] = Number.isFinite(sum) ? -(sum + compensation) : -sum;
  });
  return { forward: reduce(spec, perSample, layer, FLOAT64_ARITHMETIC), grad };
}
