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

/** The ways a correct float32 softmax is written besides the textbook's (the designs). */
export type KernelDesignName = 'online' | 'exp2' | 'lanes';

/**
 * A correct softmax kernel in float32 written another way: an online softmax (one pass, the
 * running sum rescaled by exp(m_old − m_new) as the max grows, as flash-attention's), exp2 with
 * log2(e) rounded to float32, or sums in 8 lanes merged at the end (a SIMD reduction).
 */
export function jsDesignKernel(design: KernelDesignName): Kernel {
  const f = Math.fround;
  const log2e = f(Math.LOG2E);
  return {
    name: `js softmax (${design})`,
    close: async () => {},
    run: async (c: HuntCase) => {
      const axis = c.dim < 0 ? c.dim + c.x.shape.length : c.dim;
      const layout = sliceLayout(c.x.shape, axis);
      const forward = new Float64Array(c.x.data.length);
      const grad = new Float64Array(c.x.data.length);
      forEachSlice(layout, [c.x.data, c.g.data], [forward, grad], ([xs, gs], [ss, dx]) => {
        const n = xs.length;
        let max = -Infinity;
        let total = 0;
        if (design === 'online') {
          for (let j = 0; j < n; j++) {
            const v = xs[j];
            if (v > max) {
              total = max === -Infinity ? 0 : f(total * f(Math.exp(f(max - v))));
              max = v;
            }
            total = f(total + f(Math.exp(f(v - max))));
          }
        } else {
          for (const v of xs) max = Math.max(max, v);
        }
        const shift = max === -Infinity || max !== max ? 0 : max;
        // exp2 of (x − m)·log2(e), the shift first: scaling x and m apart, f(x·log2e) − f(m·log2e), loses
        // |m|·u of each at a large common offset (a hazard hunt finds: 49 of 600 cases, "large common offset").
        const e = Array.from(xs, (v) => (design === 'exp2' ? f(2 ** f(f(v - shift) * log2e)) : f(Math.exp(f(v - shift)))));
        if (design === 'lanes') {
          const lanes = new Array<number>(8).fill(0);
          e.forEach((v, j) => (lanes[j % 8] = f(lanes[j % 8] + v)));
          total = lanes.reduce((a, b) => f(a + b), 0);
        } else if (design === 'exp2') {
          total = e.reduce((a, b) => f(a + b), 0);
        }
        if (max !== max || (design === 'online' && n > 0 && xs.some((v) => v !== v))) total = NaN;
        let dot = 0;
        for (let j = 0; j < n; j++) {
          ss[j] = f(e[j] / total);
          dot = f(dot + f(ss[j] * gs[j]));
        }
        for (let j = 0; j < n; j++) dx[j] = f(ss[j] * f(gs[j] - dot));
      });
      return { kind: 'results', forward: { shape: c.x.shape, data: forward }, grad: { shape: c.x.shape, data: grad } };
    },
  };
}
