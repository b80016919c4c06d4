import type { Hypothesis } from '../../diagnosis/hypothesis.js';
import { perSlice, sliceSum, sliceSums } from '../../diagnosis/slices.js';
import { sliceOf } from '../../numeric/slices.js';
import type { OpSpec } from '../op-definition.js';

/**
 * softmax's own bugs (KERNEL-BUGS.md): the backward without ⟨s, g⟩, log_softmax's backward in its
 * place, each slice normalised by a wrong sum (padded lanes, partial sums merged without
 * rescaling: verl 2656, llm.c 776), g read as one value per slice. Each is recomputed from the
 * exact s, as the kernel's backward would from its own.
 */
export const SOFTMAX_DIAGNOSES: readonly Hypothesis<OpSpec>[] = [
  {
    code: 'grad-missing-inner-product',
    specific: true,
    predict({ exact, g }) {
      const s = exact.forward;
      return { values: { grad: (i) => s[i] * g.data[i] }, message: 'the gradient is s ⊙ g (⟨s, g⟩ left out)' };
    },
  },
  {
    code: 'log-softmax-backward-used',
    specific: true,
    predict({ exact, g, layout }) {
      const s = exact.forward;
      const sums = sliceSums(layout, (i) => g.data[i]);
      return { values: { grad: (i) => g.data[i] - s[i] * sums[sliceOf(layout, i)] }, message: "the gradient is g − s·Σg: log_softmax's backward, not softmax's" };
    },
  },
  {
    code: 'normaliser-off',
    specific: true,
    predict({ exact, expected, g, layout, allowances }) {
      const given = expected.forward;
      if (given === undefined) return undefined;
      const s = exact.forward;
      const bound = allowances.expectedSlices.softmaxSum;
      // Each slice's own factor: the sum of its probabilities, which a right normaliser makes 1.
      const factors: number[] = [];
      perSlice(layout, 0, (at) => factors.push(sliceSum(layout, at, (i) => given[i])));
      // A sum within twice what rounding allows it is rounding, not a wrong normaliser.
      const off = factors.filter((f, k) => Math.abs(f - 1) > Math.max(1e-3, 2 * bound[k]));
      if (off.length === 0) return undefined;
      const forward = perSlice(layout, s.length, (at, out, k) => {
        for (let j = 0; j < layout.length; j++) out[at(j)] = factors[k] * s[at(j)];
      });
      // The backward from the kernel's own probabilities as it stored them: s'(g − ⟨s', g⟩).
      const grad = perSlice(layout, s.length, (at, out) => {
        const dot = sliceSum(layout, at, (i) => given[i] * g.data[i]);
        for (let j = 0; j < layout.length; j++) out[at(j)] = given[at(j)] * (g.data[at(j)] - dot);
      });
      const worst = off.reduce((a, b) => (Math.abs(b - 1) > Math.abs(a - 1) ? b : a));
      return {
        values: { forward, grad },
        message: `${off.length} of ${factors.length} slice${factors.length === 1 ? ' is' : off.length === 1 ? 's is' : 's are'} scaled by a wrong normaliser (their probabilities sum to ${Number(worst.toPrecision(4))} at worst): lanes past the row's end counted in the sum, or partial sums merged without rescaling`,
        details: { slices: off.length, worstSum: worst },
      };
    },
  },
  {
    code: 'grad-reads-constant-g',
    specific: true,
    predict() {
      // With g constant along a slice, s(g − ⟨s, g⟩) is 0: the gradient of a kernel that reads one g a slice.
      return { values: { grad: () => 0 }, message: 'the gradient is 0, as if g were constant along each slice (g read once a slice), or never written' };
    },
  },
];
