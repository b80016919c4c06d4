import type { Kernel } from '../../src/hunt/kernel.js';
import type { HuntCase } from '../../src/hunt/hunt-case.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { forEachSlice, sliceLayout } from '../../src/numeric/slices.js';

/** The bugs planted in the JS kernel below, each of a class KERNEL-BUGS.md lists. */
export type PlantedBug =
  | 'none'
  /** softmax's backward as s ⊙ g: the ⟨s, g⟩ term forgotten. */
  | 'forgot-inner'
  /** Lanes past the last full block of 32 loaded as 0: exp(0 − m) added to the sum (verl 2656). */
  | 'off-grid-lanes'
  /** No max subtracted: exp overflows for large logits (PyTorch 62897). */
  | 'no-max-shift'
  /** The running sum kept in float16: it stalls at 2048 (candle 3727). */
  | 'float16-sum';

/**
 * softmax in JavaScript, as a kernel in the case's dtype computes it: float32 opmath for the half
 * types, stored in the dtype, its sums in the accumulation type; with one bug planted, or none.
 */
export function jsSoftmaxKernel(bug: PlantedBug): Kernel {
  return {
    name: `js softmax (${bug})`,
    close: async () => {},
    run: async (c: HuntCase) => {
      const { round, roundSum, store } = arithmeticFor(c.dtype);
      const sum16 = arithmeticFor('float16').store;
      const axis = c.dim < 0 ? c.dim + c.x.shape.length : c.dim;
      const layout = sliceLayout(c.x.shape, axis);
      const forward = new Float64Array(c.x.data.length);
      const grad = new Float64Array(c.x.data.length);
      forEachSlice(layout, [c.x.data, c.g.data], [forward, grad], ([xs, gs], [ss, dx]) => {
        let max = -Infinity;
        for (const v of xs) max = Math.max(max, v);
        if (bug === 'no-max-shift' || max === -Infinity) max = 0;
        let total = 0;
        const e = Array.from(xs, (v) => round(Math.exp(round(v - max))));
        for (const v of e) total = bug === 'float16-sum' ? sum16(total + v) : roundSum(total + v);
        if (bug === 'off-grid-lanes' && xs.length % 32 !== 0) total = roundSum(total + round(Math.exp(-max)));
        let dot = 0;
        for (let j = 0; j < xs.length; j++) {
          ss[j] = store(round(e[j] / total));
          dot = roundSum(dot + round(ss[j] * gs[j]));
        }
        for (let j = 0; j < xs.length; j++) dx[j] = store(round(ss[j] * round(gs[j] - (bug === 'forgot-inner' ? 0 : dot))));
      });
      return { kind: 'results', forward: { shape: c.x.shape, data: forward }, grad: { shape: c.x.shape, data: grad } };
    },
  };
}
