import { SMALLEST_SUBNORMAL, UNIT_ROUNDOFF } from '../../dtype.js';
import type { Hypothesis } from '../../diagnosis/hypothesis.js';
import { perSlice, sliceSum } from '../../diagnosis/slices.js';
import type { OpSpec } from '../op-definition.js';

/**
 * log_softmax's own bugs: the backward without its sum term, softmax's backward in its place, the
 * forward as log(softmax(x)) (−inf where the probability underflows), each slice off by one
 * constant (a wrong log-sum-exp: the shift applied twice or not at all, PyTorch 38839). The
 * backwards are recomputed from the exact y, as the kernel's would be from its own.
 */
export const LOG_SOFTMAX_DIAGNOSES: readonly Hypothesis<OpSpec>[] = [
  {
    code: 'grad-missing-sum-term',
    specific: true,
    predict({ g }) {
      return { values: { grad: Float64Array.from(g.data) }, message: 'the gradient is g (the term exp(y)·Σg left out)' };
    },
  },
  {
    code: 'softmax-backward-used',
    specific: true,
    predict(context) {
      const { exact, g, layout } = context;
      const y = exact.forward;
      // softmax's backward on the log-probabilities themselves, or on their exponentials: the two ways a copy goes wrong.
      const backward = (p: (i: number) => number) =>
        perSlice(layout, y.length, (at, out) => {
          const dot = sliceSum(layout, at, (i) => p(i) * g.data[i]);
          for (let j = 0; j < layout.length; j++) out[at(j)] = p(at(j)) * (g.data[at(j)] - dot);
        });
      const onY = backward((i) => y[i]);
      const onS = backward((i) => Math.exp(y[i]));
      const useY = context.explained({ grad: onY }) >= context.explained({ grad: onS });
      return useY
        ? { values: { grad: onY }, message: "the gradient is y ⊙ (g − ⟨y, g⟩): softmax's backward applied to log_softmax's output" }
        : { values: { grad: onS }, message: "the gradient is s ⊙ (g − ⟨s, g⟩): softmax's backward, not log_softmax's" };
    },
  },
  {
    code: 'log-of-softmax',
    specific: true,
    predict({ exact, expected, arithmetic }) {
      const given = expected.forward;
      if (given === undefined) return undefined;
      // log(s) with s underflowed to 0: −inf where the exact log-probability is finite but below the
      // log of the compute type's smallest number (about −103 in float32); the gradient there follows it.
      const underflow = Math.log(SMALLEST_SUBNORMAL[arithmetic.compute]);
      const accounts = Uint8Array.from(given, (v, i) => (v === -Infinity && Number.isFinite(exact.forward[i]) && exact.forward[i] < underflow ? 1 : 0));
      if (!accounts.includes(1)) return undefined;
      return { accounts: { forward: accounts, grad: accounts }, message: 'log_softmax computed as log(softmax(x)): −inf where the probability underflows but the log-probability is finite' };
    },
  },
  {
    code: 'row-offset',
    specific: true,
    predict(context) {
      const { exact, expected, g, layout } = context;
      const given = expected.forward;
      if (given === undefined) return undefined;
      const y = exact.forward;
      const offsets: number[] = [];
      const forward = perSlice(layout, y.length, (at, out) => {
        const differences: number[] = [];
        for (let j = 0; j < layout.length; j++) {
          const d = given[at(j)] - y[at(j)];
          if (Number.isFinite(d)) differences.push(d);
        }
        differences.sort((a, b) => a - b);
        const offset = differences.length === 0 ? 0 : differences[Math.floor(differences.length / 2)];
        offsets.push(offset);
        for (let j = 0; j < layout.length; j++) out[at(j)] = y[at(j)] + offset;
      });
      // An offset within rounding's reach of log-sum-exp is rounding, fitted.
      const reach = 8 * UNIT_ROUNDOFF[context.dtype] * (1 + Math.log(layout.length));
      if (offsets.every((c) => Math.abs(c) <= reach)) return undefined;
      // The backward from the kernel's own output as it stored it, g − exp(y')·Σg (exp amplifies
      // its rounding past what a recomputed y + c predicts), or from the right one (only the forward off).
      const fromOwn = perSlice(layout, y.length, (at, out) => {
        const total = sliceSum(layout, at, (i) => g.data[i]);
        for (let j = 0; j < layout.length; j++) out[at(j)] = g.data[at(j)] - Math.exp(given[at(j)]) * total;
      });
      const grad = context.explained({ forward, grad: fromOwn }) >= context.explained({ forward }) ? fromOwn : exact.grad;
      const worst = offsets.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a));
      const off = offsets.filter((c) => Math.abs(c) > reach).length;
      const slices = off === offsets.length ? (off === 1 ? 'the slice is' : `each of the ${off} slices is`) : `${off} of ${offsets.length} slices are`;
      return { values: { forward, grad }, message: `${slices} off by its own constant (${Number(worst.toPrecision(4))} at worst): a wrong log-sum-exp`, details: { worstOffset: worst } };
    },
  },
];
