import { FLOAT64_ARITHMETIC, type Arithmetic } from '../../numeric/arithmetic.js';
import { maxPropagatingNaN } from '../../numeric/max.js';

/**
 * Softmax of one slice through the log-sum-exp: `s_i = exp(x_i − m − log Σ_j exp(x_j − m))` with
 * `m = max(x)`. This is the forward pass of the closed-form pipeline: a second route to the same
 * probabilities, so that the two pipelines' softmax columns check each other instead of being one
 * computation printed twice.
 *
 * `(x_i − m) − log Σ` is subtracted in that order: adding `m` to the log first would round the
 * exponent to the ulp of `m`, a relative error of about 1e-13 in `s_i` for logits near 1000.
 * The relative error of `s_i` is about `|x_i − m − log Σ|` ulps, so it grows with the spread of the
 * logits: well inside float64 tolerances for any spread that leaves `s_i` representable.
 * In a narrower dtype every step is rounded to the compute type, the sum accumulates in
 * `a.accumulate`, and the probabilities are stored in the dtype.
 *
 * Special cases match `softmaxNormalisedSlice`: `-Infinity` logits get 0, an all-`-Infinity`,
 * NaN or `+Infinity` slice is NaN throughout.
 *
 * @example softmaxLogSumExpSlice([1, 2, 3]) → [0.09003057317038043, 0.24472847105479764, 0.6652409557748218]
 */
export function softmaxLogSumExpSlice(x: Float64Array, out: Float64Array, a: Arithmetic = FLOAT64_ARITHMETIC): void {
  const { round, roundSum, store } = a;
  const max = maxPropagatingNaN(x);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum = roundSum(sum + round(Math.exp(round(x[i] - max))));
  const logSum = round(Math.log(sum));
  for (let i = 0; i < x.length; i++) out[i] = store(round(Math.exp(round(round(x[i] - max) - logSum))));
}
