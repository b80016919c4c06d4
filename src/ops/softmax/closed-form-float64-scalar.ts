import { kernelExp } from '../../numeric/kernel-exp.js';
import { closedFormBackwardSlice } from './closed-form-backward.js';
import { softmaxLogSumExpSlice } from './softmax-log-sum-exp.js';

/**
 * The float64 closed form of closed-form-wasm.ts for one short slice, in JavaScript: the same
 * operations in the same order as the WebAssembly kernel (its sums in four lanes, element j in
 * lane j mod 4 up to the last multiple of 4, the lanes combined as (l0 + l2) + (l1 + l3), the rest
 * added in order), so the same bits, without the kernel's compilation and copies. Tested bit for
 * bit against the kernel.
 */
export function closedFormFloat64Scalar(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): void {
  const n = x.length;
  let m = -Infinity;
  for (let j = 0; j < n; j++) {
    if (x[j] !== x[j]) return closedFormJavaScriptRoute(x, g, softmax, grad);
    if (x[j] > m) m = x[j];
  }
  if (!Number.isFinite(m)) return closedFormJavaScriptRoute(x, g, softmax, grad);

  const lanes = [0, 0, 0, 0];
  const weightedLanes = [0, 0, 0, 0];
  const n4 = n & ~3;
  for (let j = 0; j < n4; j++) {
    const e = kernelExp(x[j] - m);
    softmax[j] = e;
    lanes[j & 3] += e;
    weightedLanes[j & 3] += e * g[j];
  }
  let sum = lanes[0] + lanes[2] + (lanes[1] + lanes[3]);
  let weighted = weightedLanes[0] + weightedLanes[2] + (weightedLanes[1] + weightedLanes[3]);
  for (let j = n4; j < n; j++) {
    const e = kernelExp(x[j] - m);
    softmax[j] = e;
    sum += e;
    weighted += e * g[j];
  }
  finishClosedForm(softmax, g, grad, sum, weighted);
}

/**
 * The last pass, from e_j (in `softmax`), Σ e_j and Σ e_j g_j: s_j = e_j · (1/Σ), then
 * dx_j = s_j (g_j − ⟨s, g⟩) with ⟨s, g⟩ = Σ e_j g_j / Σ e_j. Where Σ e_j g_j is not finite (it
 * overflowed, or g holds ±Infinity or NaN), ⟨s, g⟩ comes from the probabilities instead, which
 * cannot overflow where ⟨s, g⟩ itself does not.
 */
export function finishClosedForm(softmax: Float64Array, g: Float64Array, grad: Float64Array, sum: number, weighted: number): void {
  const inverse = 1 / sum;
  if (!Number.isFinite(weighted)) {
    for (let j = 0; j < softmax.length; j++) softmax[j] *= inverse;
    return closedFormBackwardSlice(softmax, g, grad);
  }
  const dot = weighted / sum;
  for (let j = 0; j < softmax.length; j++) {
    const s = softmax[j] * inverse;
    softmax[j] = s;
    grad[j] = s * (g[j] - dot);
  }
}

/**
 * Slices whose largest logit is not finite (a NaN, a +Infinity, or nothing but −Infinity: NaN
 * throughout either way) take the plain JavaScript closed form, log-sum-exp and backward, whose
 * special cases are documented there.
 */
export function closedFormJavaScriptRoute(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): void {
  softmaxLogSumExpSlice(x, softmax);
  closedFormBackwardSlice(softmax, g, grad);
}
