import { FLOAT64_ARITHMETIC, type Arithmetic } from '../../numeric/arithmetic.js';
import { maxPropagatingNaN } from '../../numeric/max.js';

/**
 * Softmax of one slice by normalising shifted exponentials: `s_i = e_i / Σ_j e_j` with
 * `e_i = exp(x_i − max(x))`. This is the forward pass of the explicit-Jacobian pipeline (the
 * seed's numpy script computed it this way).
 *
 * The shift by the max keeps every exponent ≤ 0, so `exp` cannot overflow ([1000, 1001, 1002])
 * and the largest term is exactly 1, so the sum cannot underflow to 0 ([-1000, -999]).
 * In a narrower dtype every step is rounded to the compute type, the sum accumulates in
 * `a.accumulate`, and the probabilities are stored in the dtype.
 *
 * Special cases, as in PyTorch:
 * - a `-Infinity` logit gets probability 0 (a mask);
 * - every logit `-Infinity`: max is `-Infinity`, `x − max` is NaN, every probability is NaN;
 * - any NaN or `+Infinity` logit makes the whole slice NaN;
 * - a single element has probability 1.
 *
 * @example softmaxNormalisedSlice([1, 2, 3]) → [0.09003057317038046, 0.24472847105479764, 0.6652409557748218]
 */
export function softmaxNormalisedSlice(x: Float64Array, out: Float64Array, a: Arithmetic = FLOAT64_ARITHMETIC): void {
  const { round, roundSum, store } = a;
  const max = maxPropagatingNaN(x);
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const e = round(Math.exp(round(x[i] - max)));
    out[i] = e;
    sum = roundSum(sum + e);
  }
  for (let i = 0; i < x.length; i++) out[i] = store(round(out[i] / sum));
}
