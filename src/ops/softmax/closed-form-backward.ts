import { FLOAT64_ARITHMETIC, type Arithmetic } from '../../numeric/arithmetic.js';

/**
 * Input gradient of softmax in closed form: `dx = s ⊙ (g − ⟨s, g⟩)`, O(n).
 *
 * This is what PyTorch's `_softmax_backward_data` computes. It is the second witness for the
 * gradient and must not borrow from the explicit-Jacobian code.
 *
 * In a narrower dtype every product and difference is rounded to the compute type, ⟨s, g⟩
 * accumulates in `a.accumulate`, and the gradient is stored in the dtype.
 *
 * Special cases: a masked element (`s_i = 0`) gets `dx_i = 0` for finite `g`; a constant `g`
 * gives `dx = 0` up to rounding, since `⟨s, g⟩ = g` when `Σ s = 1`; a NaN in `s` or `g` makes
 * `⟨s, g⟩` and so every `dx_i` NaN.
 *
 * @example closedFormBackwardSlice([0.25, 0.75], [1, 0]) → [0.1875, -0.1875]
 */
export function closedFormBackwardSlice(s: Float64Array, g: Float64Array, out: Float64Array, a: Arithmetic = FLOAT64_ARITHMETIC): void {
  const { round, roundSum, store } = a;
  let dot = 0;
  for (let j = 0; j < s.length; j++) dot = roundSum(dot + round(s[j] * g[j]));
  const centre = round(dot);
  for (let i = 0; i < s.length; i++) out[i] = store(round(s[i] * round(g[i] - centre)));
}
