import { bestPrediction } from '../../diagnosis/best-prediction.js';
import { messageNumber } from '../../diagnosis/message-number.js';
import type { DiagnosisContext, Hypothesis } from '../../diagnosis/hypothesis.js';
import { forEachSlice } from '../../numeric/slices.js';
import { runAccurateLogSoftmaxFloat64 } from '../log_softmax/accurate-log-softmax.js';
import type { OpSpec } from '../op-definition.js';
import { lossLayer } from './cross-entropy.js';
import type { CrossEntropySpec } from './cross-entropy-spec.js';

/**
 * cross_entropy's own bugs, all in how the loss is reduced and which of its fields are read:
 * mean's division left out, ignored samples counted in the mean's denominator, label smoothing or
 * the class weights never applied, the smoothing term summed over ignored samples too (PyTorch
 * issue 73205: the nll part skipped them, the uniform part did not), and for reduction none every
 * sample's gradient scaled by g[0] (Liger-Kernel 678: g read as one number). Each is recomputed in
 * float64 from the exact result, or as the exact result of the spec or g the kernel used instead.
 */
export const CROSS_ENTROPY_DIAGNOSES: readonly Hypothesis<OpSpec>[] = [
  {
    code: 'mean-not-divided',
    specific: true,
    predict(context) {
      const spec = crossEntropyOf(context);
      if (spec?.reduction !== 'mean') return undefined;
      const { divisor } = lossLayer(spec, context.g.data, context.layout);
      // (D = 1, one sample of weight 1: the sum is the mean.)
      if (!Number.isFinite(divisor) || divisor === 0 || divisor === 1) return undefined;
      const sum = context.exactFor({ spec: { ...spec, reduction: 'sum' } });
      if (sum === undefined) return undefined;
      return {
        values: { forward: sum.forward, grad: sum.grad },
        message: `the loss and gradient are the sum, not the mean: not divided by ${denominatorWords(spec, context, divisor)}`,
        details: { divisor },
      };
    },
  },
  {
    code: 'ignored-counted',
    specific: true,
    predict(context) {
      const spec = crossEntropyOf(context);
      // (With weights the mean divides by the counted targets' weights: an ignored target has none to count.)
      if (spec?.reduction !== 'mean' || spec.targetKind !== 'index' || spec.weight !== undefined) return undefined;
      const samples = context.layout.count;
      const ignored = ignoredSamples(spec);
      if (ignored === 0) return undefined;
      const sum = context.exactFor({ spec: { ...spec, reduction: 'sum' } });
      if (sum === undefined) return undefined;
      const over = (v: number) => v / samples;
      return {
        values: { forward: sum.forward.map(over), grad: sum.grad.map(over) },
        message: `the loss and gradient are divided by N = ${samples}, every sample, not by the ${samples - ignored} that count: the ${ignored} ignored counted in the mean`,
        details: { divisor: samples, ignored },
      };
    },
  },
  {
    code: 'smoothing-ignored',
    specific: true,
    predict(context) {
      const spec = crossEntropyOf(context);
      if (spec === undefined || !(spec.labelSmoothing > 0)) return undefined;
      const unsmoothed = context.exactFor({ spec: { ...spec, labelSmoothing: 0 } });
      if (unsmoothed === undefined) return undefined;
      return {
        values: { forward: unsmoothed.forward, grad: unsmoothed.grad },
        message: `the loss and gradient are those without label smoothing: label_smoothing ${spec.labelSmoothing} never applied`,
        details: { labelSmoothing: spec.labelSmoothing },
      };
    },
  },
  {
    code: 'smoothing-counts-ignored',
    specific: true,
    predict(context) {
      const spec = crossEntropyOf(context);
      if (spec === undefined || !(spec.labelSmoothing > 0) || spec.targetKind !== 'index') return undefined;
      const ignored = ignoredSamples(spec);
      if (ignored === 0) return undefined;
      const { divisor, counted } = lossLayer(spec, context.g.data, context.layout);
      // (A mean over no counted sample is NaN whatever the kernel adds.)
      if (!Number.isFinite(divisor) || divisor === 0) return undefined;
      const samples = context.layout.count;
      // What multiplies each sample's smoothing term ε·(−Σ w_c y_c)/C beyond the exact loss: the
      // ignored ones' 1/D (1 for sum and none), and for a mean without weights, the variant that
      // divides the whole smoothing term by every sample, N, as smooth_loss.mean() would.
      const variants: { dividedBy?: number; extra: (k: number) => number }[] =
        spec.reduction === 'mean'
          ? [{ dividedBy: divisor, extra: (k) => (counted[k] === 1 ? 0 : 1 / divisor) }]
          : [{ extra: (k) => (counted[k] === 1 ? 0 : 1) }];
      if (spec.reduction === 'mean' && spec.weight === undefined && samples !== divisor) {
        variants.push({ dividedBy: samples, extra: (k) => (counted[k] === 1 ? 1 / samples - 1 / divisor : 1 / samples) });
      }
      return bestPrediction(
        context,
        variants.map(({ dividedBy, extra }) => {
          const over = dividedBy === samples && dividedBy !== divisor ? `, and the whole smoothing term divided by all N = ${samples} samples, not ${samples - ignored}` : '';
          return {
            values: smoothingCounted(context, spec, extra),
            message: `the label smoothing term is summed over the ${ignored} ignored sample${ignored === 1 ? '' : 's'} too${over}: their ε·Σ −w_c log p_c / C not masked out`,
            details: { ignored, ...(dividedBy === undefined ? {} : { dividedBy }) },
          };
        }),
      );
    },
  },
  {
    code: 'weight-ignored',
    specific: true,
    predict(context) {
      const spec = crossEntropyOf(context);
      if (spec?.weight === undefined || spec.weight.every((w) => w === 1)) return undefined;
      const unweighted = context.exactFor({ spec: { ...spec, weight: undefined } });
      if (unweighted === undefined) return undefined;
      return {
        values: { forward: unweighted.forward, grad: unweighted.grad },
        message: 'the loss and gradient are those without class weights: weight never applied',
      };
    },
  },
  {
    code: 'none-grad-first-g',
    specific: true,
    predict(context) {
      const spec = crossEntropyOf(context);
      const g = context.g.data;
      if (spec?.reduction !== 'none' || g.length < 2 || g.every((v) => Object.is(v, g[0]))) return undefined;
      const first = context.exactFor({ g: new Float64Array(g.length).fill(g[0]) });
      if (first === undefined) return undefined;
      return {
        values: { grad: first.grad },
        message: `every sample's gradient is scaled by g[0] = ${messageNumber(g[0])}, not by its own g[n]: the upstream gradient read as one number`,
        details: { g0: g[0] },
      };
    },
  },
];

function crossEntropyOf(context: DiagnosisContext<OpSpec>): CrossEntropySpec | undefined {
  const { spec } = context;
  return spec?.op === 'cross_entropy' ? spec : undefined;
}

function ignoredSamples(spec: CrossEntropySpec): number {
  if (spec.targetKind !== 'index') return 0;
  let n = 0;
  for (const t of spec.target.data) if (t === spec.ignoreIndex) n++;
  return n;
}

/** What mean divides by, in words: N, the samples that count, or their targets' weights. */
function denominatorWords(spec: CrossEntropySpec, context: DiagnosisContext<OpSpec>, divisor: number): string {
  if (spec.targetKind === 'index' && spec.weight !== undefined) return `Σ w = ${messageNumber(divisor)} (the counted targets' weights)`;
  const ignored = ignoredSamples(spec);
  return ignored === 0 ? `N = ${divisor}` : `N = ${divisor} (the ${context.layout.count} samples less the ${ignored} ignored)`;
}

/**
 * The exact loss and gradient plus each sample's smoothing term ε·(−Σ_c w_c y_c)/C taken `extra(k)`
 * times more (scaled as the loss is: by g, or g[k] for none), and its gradient
 * scale·extra·(ε/C)·(s_c Σw − w_c): log_softmax's backward of h_c = −scale·extra·(ε/C)·w_c.
 */
function smoothingCounted(
  context: DiagnosisContext<OpSpec>,
  spec: CrossEntropySpec,
  extra: (k: number) => number,
): { forward: Float64Array; grad: Float64Array } {
  const { layout, x, exact } = context;
  const g = context.g.data;
  const spread = spec.labelSmoothing / layout.length;
  const weightOf = (c: number): number => spec.weight?.[c] ?? 1;
  const h = new Float64Array(x.data.length);
  forEachSlice(layout, [], [h], (_, [hs], k) => {
    const scale = (spec.reduction === 'none' ? g[k] : g[0]) * extra(k);
    for (let c = 0; c < hs.length; c++) hs[c] = scale === 0 ? 0 : -scale * spread * weightOf(c);
  });
  const { forward: y, grad: added } = runAccurateLogSoftmaxFloat64(x.data, h, layout);
  const terms = new Float64Array(layout.count);
  forEachSlice(layout, [y], [], ([ys], _, k) => {
    const times = extra(k);
    if (times === 0) return;
    let smooth = 0;
    for (let c = 0; c < ys.length; c++) smooth -= weightOf(c) * ys[c];
    terms[k] = times * spread * smooth;
  });
  const forward = exact.forward.slice();
  if (spec.reduction === 'none') for (let k = 0; k < terms.length; k++) forward[k] += terms[k];
  else forward[0] += terms.reduce((a, b) => a + b, 0);
  return { forward, grad: exact.grad.map((v, i) => v + added[i]) };
}
