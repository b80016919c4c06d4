import type { DiagnosisContext, Hypothesis, Prediction } from '../../diagnosis/hypothesis.js';
import { messageNumber } from '../../diagnosis/message-number.js';
import { perSlice } from '../../diagnosis/slices.js';
import { formatIndex } from '../../tensor.js';
import type { MethodResult } from '../../methods/method-result.js';
import type { OpSpec } from '../op-definition.js';
import { MASKED_ROWS, type MaskedSoftmaxSpec } from './masked-softmax-spec.js';
import { fullyMaskedSlices } from './masked-softmax.js';

type Context = DiagnosisContext<OpSpec>;

/**
 * masked_softmax's own bugs (KERNEL-BUGS.md): the scale left out of the backward (the
 * forward takes scale·x, so the chain rule owes the gradient that factor), a gradient leaking into
 * masked positions (a backward that recomputes the probabilities without the mask), and a causal
 * mask one diagonal off (`<` for `≤`, or the row index off by one). Each is recomputed from the
 * exact result or, for another mask, by the op itself (exactFor), so masked_rows and the scale hold.
 */
export const MASKED_SOFTMAX_DIAGNOSES: readonly Hypothesis<OpSpec>[] = [
  {
    code: 'grad-without-scale',
    specific: true,
    predict({ spec, exact, failing }) {
      // A scale of 1 changes nothing; one of 0 makes every gradient 0, which nothing divides.
      if (spec?.op !== 'masked_softmax' || spec.scale === 1 || spec.scale === 0 || failing.grad?.includes(1) !== true) return undefined;
      const { scale } = spec;
      return {
        values: { grad: exact.grad.map((v) => v / scale) },
        message: `the gradient lacks the factor scale = ${messageNumber(scale)} (it is ${messageNumber(1 / scale)} times the exact one): softmax's backward of g, not of scale·g`,
        details: { scale },
      };
    },
  },
  {
    code: 'masked-grad-leaks',
    specific: true,
    predict(context) {
      const { spec, exact, failing } = context;
      if (spec?.op !== 'masked_softmax' || failing.grad === undefined) return undefined;
      // Known by where it shows: a leak's values depend on what the kernel left there (a finite
      // sentinel's exp, stale memory, the unmasked probabilities), so every failing element at a
      // masked position counts; the values only name the likelier cause in the message.
      const accounts = new Uint8Array(exact.grad.length);
      let leaks = 0;
      let nan = 0;
      let first = -1;
      for (let i = 0; i < accounts.length; i++) {
        if (spec.keep[i] !== 0 || exact.grad[i] !== 0 || failing.grad[i] !== 1) continue;
        accounts[i] = 1;
        leaks++;
        if (Number.isNaN(context.expected.grad?.[i])) nan++;
        if (first === -1) first = i;
      }
      if (leaks === 0) return undefined;
      const where = `${leaks} masked position${leaks === 1 ? '' : 's'} (first ${formatIndex(first, context.x.shape)})`;
      const cause = leakCause(context, spec, leaks);
      const message =
        nan === leaks
          ? `the gradient is NaN at ${where}, where the exact one is 0: the backward does not zero masked positions (a −∞ logit, or a fully masked slice's NaN, reaches it)`
          : `the gradient is nonzero at ${where}, where the exact one is 0: ${cause?.says ?? 'the backward does not zero masked positions'}`;
      return { accounts: { grad: accounts }, message, details: { leaks, ...(nan > 0 ? { nan } : {}), ...(cause === undefined ? {} : { matches: cause.name }) } };
    },
  },
  {
    code: 'causal-off-by-one',
    specific: true,
    predict(context) {
      const { spec, x } = context;
      if (spec?.op !== 'masked_softmax') return undefined;
      const diagonal = causalDiagonal(spec, x.shape);
      if (diagonal === undefined) return undefined;
      let best: (Prediction & { explains: number }) | undefined;
      for (const shift of [1, -1] as const) {
        const keep = causalKeep(x.shape, diagonal + shift);
        if (keep.every((v, i) => v === spec.keep[i])) continue;
        for (const exact of shiftedResults(context, spec, keep)) {
          const values = { forward: exact.forward, grad: exact.grad };
          const explains = context.explained(values);
          if (best !== undefined && explains <= best.explains) continue;
          // The diagonal the shift adds (j = i + d + 1) or takes away (j = i + d).
          const direction = shift === 1 ? `${onDiagonal(diagonal + 1)} kept` : `${onDiagonal(diagonal)} masked`;
          best = {
            values,
            explains,
            message: `the causal mask is one diagonal off: it keeps ${keeps(diagonal + shift)}, not ${keeps(diagonal)} (${direction})`,
            details: { shift, direction, keeps: keeps(diagonal + shift) },
          };
        }
      }
      if (best === undefined) return undefined;
      const { explains: _explains, ...prediction } = best;
      return prediction;
    },
  },
];

/**
 * What a leak's values match, when nearly all of them do: the probabilities recomputed in the
 * backward from the forward's logsumexp without the mask (FlashAttention's backward recomputes
 * P = exp(scale·x − lse), its D = ⟨s, g⟩ from the forward's output), or the unmasked softmax's own
 * backward. Only the masked positions of slices with a kept element change: the rest is exact.
 */
function leakCause(context: Context, spec: MaskedSoftmaxSpec, leaks: number): { name: string; says: string } | undefined {
  const { layout, exact, x, g } = context;
  const { keep, scale } = spec;
  const dead = fullyMaskedSlices(spec, layout);
  const recomputed = perSlice(layout, exact.grad.length, (at, out, k) => {
    let max = -Infinity;
    let dot = 0;
    for (let j = 0; j < layout.length; j++) {
      const i = at(j);
      out[i] = exact.grad[i];
      if (keep[i] === 1) {
        max = Math.max(max, scale * x.data[i]);
        dot += exact.forward[i] * scale * g.data[i];
      }
    }
    if (dead[k] === 1) return;
    let sum = 0;
    for (let j = 0; j < layout.length; j++) if (keep[at(j)] === 1) sum += Math.exp(scale * x.data[at(j)] - max);
    const lse = max + Math.log(sum);
    for (let j = 0; j < layout.length; j++) {
      const i = at(j);
      if (keep[i] === 0) out[i] = Math.exp(scale * x.data[i] - lse) * (scale * g.data[i] - dot);
    }
  });
  const unmasked = perSlice(layout, exact.grad.length, (at, out, k) => {
    let max = -Infinity;
    for (let j = 0; j < layout.length; j++) {
      out[at(j)] = exact.grad[at(j)];
      max = Math.max(max, scale * x.data[at(j)]);
    }
    if (dead[k] === 1) return;
    let sum = 0;
    for (let j = 0; j < layout.length; j++) sum += Math.exp(scale * x.data[at(j)] - max);
    let dot = 0;
    for (let j = 0; j < layout.length; j++) dot += (Math.exp(scale * x.data[at(j)] - max) / sum) * scale * g.data[at(j)];
    for (let j = 0; j < layout.length; j++) {
      const i = at(j);
      if (keep[i] === 0) out[i] = (Math.exp(scale * x.data[i] - max) / sum) * (scale * g.data[i] - dot);
    }
  });
  const causes = [
    { name: 'logsumexp-without-mask', says: "it is exp(scale·x − logsumexp)·(g′ − ⟨s, g′⟩), g′ = scale·g: the backward recomputes p from the logsumexp without the mask", values: recomputed },
    { name: 'unmasked-backward', says: "it is the unmasked softmax's backward there (the kept positions are right): the backward ignores the mask", values: unmasked },
  ];
  let best: { name: string; says: string; explains: number } | undefined;
  for (const { name, says, values } of causes) {
    const explains = context.explained({ grad: values });
    if (best === undefined || explains > best.explains) best = { name, says, explains };
  }
  return best !== undefined && best.explains >= 0.9 * leaks ? { name: best.name, says: best.says } : undefined;
}

/**
 * The diagonal d of a causal-shaped mask, keep = (j ≤ i + d) over the last two dims for every
 * leading index: 0 for causal, and a mask given as one (a tril, or a bottom-right aligned one) is
 * read off its rows. undefined for any other mask.
 */
function causalDiagonal(spec: MaskedSoftmaxSpec, shape: readonly number[]): number | undefined {
  if (shape.length < 2) return undefined;
  if (spec.causal) return 0;
  const columns = shape[shape.length - 1];
  const rows = shape[shape.length - 2];
  // A row keeping some but not all columns says d: it keeps columns 0 … i + d.
  let diagonal: number | undefined;
  for (let i = 0; i < rows && diagonal === undefined; i++) {
    let kept = 0;
    for (let j = 0; j < columns; j++) kept += spec.keep[i * columns + j];
    if (kept > 0 && kept < columns) diagonal = kept - 1 - i;
  }
  if (diagonal === undefined) return undefined;
  const expected = causalKeep(shape, diagonal);
  return expected.every((v, i) => v === spec.keep[i]) ? diagonal : undefined;
}

/** j ≤ i + d over the last two dims (rows i, columns j), for every leading index. */
function causalKeep(shape: readonly number[], diagonal: number): Uint8Array {
  const columns = shape[shape.length - 1];
  const rows = shape[shape.length - 2];
  const keep = new Uint8Array(shape.reduce((a, b) => a * b, 1));
  for (let k = 0; k < keep.length; k++) keep[k] = k % columns <= (Math.floor(k / columns) % rows) + diagonal ? 1 : 0;
  return keep;
}

/**
 * The exact result with the shifted mask; where the shift masks a whole slice (j < i's first row),
 * under either convention for it, since the kernel's own is not the run's to say.
 */
function shiftedResults(context: Context, spec: MaskedSoftmaxSpec, keep: Uint8Array): MethodResult[] {
  const shifted: MaskedSoftmaxSpec = { ...spec, keep, causal: false, mask: { shape: [...context.x.shape], data: Float64Array.from(keep) } };
  const deadBefore = fullyMaskedSlices(spec, context.layout);
  const newlyDead = fullyMaskedSlices(shifted, context.layout).some((v, k) => v === 1 && deadBefore[k] === 0);
  const conventions = newlyDead ? MASKED_ROWS : [spec.maskedRows];
  return conventions.flatMap((maskedRows) => context.exactFor({ spec: { ...shifted, maskedRows } }) ?? []);
}

function onDiagonal(diagonal: number): string {
  return diagonal === 0 ? 'j = i' : diagonal > 0 ? `j = i + ${diagonal}` : `j = i − ${-diagonal}`;
}

function keeps(diagonal: number): string {
  return diagonal === 0 ? 'j ≤ i' : diagonal > 0 ? `j ≤ i + ${diagonal}` : `j ≤ i − ${-diagonal}`;
}
