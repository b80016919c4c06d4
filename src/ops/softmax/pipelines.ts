import { storedIn, type MethodResult } from '../../methods/method-result.js';
import { FLOAT64_ARITHMETIC, type Arithmetic } from '../../numeric/arithmetic.js';
import { accurateClosedFormSlice } from './accurate-closed-form.js';
import { closedFormBackwardSlice } from './closed-form-backward.js';
import { closedFormFloat64Slice } from './closed-form-wasm.js';
import { jacobianBackwardSlice } from './jacobian-backward.js';
import { forEachSlice, type SliceLayout } from '../../numeric/slices.js';
import { softmaxLogSumExpSlice } from './softmax-log-sum-exp.js';
import { softmaxNormalisedSlice } from './softmax-normalised.js';

/**
 * The two witnesses, each a forward and a backward that share nothing with the other's:
 * - explicit Jacobian: normalised exponentials, then `dx = J·g` from every entry of `J`;
 * - closed form: exp(x − m) by its own exponential over Σ (float64) or the log-sum-exp (other
 *   arithmetics), then `dx = s ⊙ (g − ⟨s, g⟩)`.
 */
export function runJacobianMethod(
  x: Float64Array,
  g: Float64Array,
  layout: SliceLayout,
  materialiseLimit?: number,
  a: Arithmetic = FLOAT64_ARITHMETIC,
): MethodResult {
  const softmax = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  forEachSlice(layout, [x], [softmax], ([xs], [ss]) => softmaxNormalisedSlice(xs, ss, a));
  forEachSlice(layout, [softmax, g], [grad], ([ss, gs], [dx]) => jacobianBackwardSlice(ss, gs, dx, materialiseLimit, a));
  return { forward: softmax, grad };
}

/**
 * The third, optional witness: the accurate closed form, one pass for softmax and gradient
 * (see accurate-closed-form.ts). It works in float64 whatever the dtype, and its results are
 * rounded to the dtype once at the end: it stands for the best a kernel in that dtype can return.
 */
export function runAccurateMethod(x: Float64Array, g: Float64Array, layout: SliceLayout, a: Arithmetic = FLOAT64_ARITHMETIC): MethodResult {
  return storedIn(runAccurateFloat64(x, g, layout), a);
}

/**
 * The accurate closed form's float64 results, before any rounding to the dtype: within 1 ulp
 * (softmax) and 2 ulps (gradient) of float64 of the exact values, the judge of expected values.
 */
export function runAccurateFloat64(x: Float64Array, g: Float64Array, layout: SliceLayout): MethodResult {
  const softmax = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  forEachSlice(layout, [x, g], [softmax, grad], ([xs, gs], [ss, dx]) => accurateClosedFormSlice(xs, gs, ss, dx));
  return { forward: softmax, grad };
}

/**
 * In float64 (dtype, compute and accumulate) the closed form runs the WebAssembly kernel of
 * closed-form-wasm.ts: exp(x − m) by its own exponential, times 1/Σ, as PyTorch's CPU kernels
 * normalise. In the other arithmetics, which round every operation, it runs in JavaScript through
 * the log-sum-exp.
 */
export function runClosedFormMethod(x: Float64Array, g: Float64Array, layout: SliceLayout, a: Arithmetic = FLOAT64_ARITHMETIC): MethodResult {
  const softmax = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  if (isFloat64Throughout(a)) {
    forEachSlice(layout, [x, g], [softmax, grad], ([xs, gs], [ss, dx]) => closedFormFloat64Slice(xs, gs, ss, dx));
    return { forward: softmax, grad };
  }
  forEachSlice(layout, [x], [softmax], ([xs], [ss]) => softmaxLogSumExpSlice(xs, ss, a));
  forEachSlice(layout, [softmax, g], [grad], ([ss, gs], [dx]) => closedFormBackwardSlice(ss, gs, dx, a));
  return { forward: softmax, grad };
}

const isFloat64Throughout = (a: Arithmetic): boolean => a.dtype === 'float64' && a.compute === 'float64' && a.accumulate === 'float64';
