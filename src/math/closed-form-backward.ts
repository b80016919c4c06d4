/**
 * Input gradient of softmax in closed form: `dx = s ⊙ (g − ⟨s, g⟩)`, O(n).
 *
 * This is what PyTorch's `_softmax_backward_data` computes. It is the second witness for the
 * gradient and must not borrow from the explicit-Jacobian code.
 *
 * Special cases: a masked element (`s_i = 0`) gets `dx_i = 0` for finite `g`; a constant `g`
 * gives `dx = 0` up to rounding, since `⟨s, g⟩ = g` when `Σ s = 1`; a NaN in `s` or `g` makes
 * `⟨s, g⟩` and so every `dx_i` NaN.
 *
 * @example closedFormBackwardSlice([0.25, 0.75], [1, 0]) → [0.1875, -0.1875]
 */
export function closedFormBackwardSlice(s: Float64Array, g: Float64Array, out: Float64Array): void {
  let dot = 0;
  for (let j = 0; j < s.length; j++) dot += s[j] * g[j];
  for (let i = 0; i < s.length; i++) out[i] = s[i] * (g[i] - dot);
}
