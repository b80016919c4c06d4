import { FLOAT64_ARITHMETIC, type Arithmetic } from '../../numeric/arithmetic.js';
import { maxPropagatingNaN } from '../../numeric/max.js';
import { logSoftmaxColumnsWasm, type LogSoftmaxKernel } from './log-softmax-jacobian-wasm.js';

/** Below this many entries a slice stays in JavaScript: the kernel's copies would cost more. */
const KERNEL_FROM_ENTRIES = 4096;
import { forEachSlice, forEachSlicePart, type SliceLayout } from '../../numeric/slices.js';
import { type MethodResult } from '../../methods/method-result.js';

/**
 * log_softmax and its gradient, the two witnesses as for softmax, each forward and backward sharing
 * nothing with the other's:
 * - explicit Jacobian: y = x − (m + log Σ exp(x − m)), the log-sum-exp formed first (the design
 *   of kernels that keep one lse per row); then every entry J[i][j] = δ_ij − s_j, s = exp(y), and
 *   dx = Jᵀ·g, dx_j = Σ_i J[i][j] g_i;
 * - closed form: y = (x − m) − log Σ exp(x − m), as PyTorch's CPU kernel subtracts; then
 *   dx = g − s·Σg with s = exp(y) from the output, as PyTorch's backward reads it. Its roundings
 *   follow PyTorch 1.13's CPU kernels (the half types store Σ exp and its log, and Σg, in the
 *   dtype; float32's backward fuses the multiply and the subtraction).
 *
 * In a narrower dtype every operation rounds to the compute type, sums accumulate in
 * `a.accumulate`, and what a kernel stores (y, which backward reads, and dx) rounds to the dtype.
 *
 * Special cases as PyTorch: a −Infinity logit has y = −Infinity and dx_i = g_i (its s_i is 0); an
 * all-−Infinity, NaN or +Infinity slice is NaN throughout.
 */

/** The closed form's forward: `(x_i − m) − log Σ_j exp(x_j − m)`. */
export function logSoftmaxClosedFormForwardSlice(x: Float64Array, out: Float64Array, a: Arithmetic = FLOAT64_ARITHMETIC): void {
  const { round, roundSum, store } = a;
  const max = maxPropagatingNaN(x);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum = roundSum(sum + round(Math.exp(round(x[i] - max))));
  // PyTorch's half-type kernels store the sum and its log in the dtype before subtracting
  // (a no-op where the dtype is the compute type).
  const logSum = store(round(Math.log(store(sum))));
  for (let i = 0; i < x.length; i++) out[i] = store(round(round(x[i] - max) - logSum));
}

/** The explicit method's forward: `x_i − lse`, lse = `m + log Σ_j exp(x_j − m)` rounded once. */
export function logSoftmaxLseForwardSlice(x: Float64Array, out: Float64Array, a: Arithmetic = FLOAT64_ARITHMETIC): void {
  const { round, roundSum, store } = a;
  const max = maxPropagatingNaN(x);
  let sum = 0;
  // Summed from the last element to the first: another order than the closed form's.
  for (let i = x.length - 1; i >= 0; i--) sum = roundSum(sum + round(Math.exp(round(x[i] - max))));
  // An all-−Infinity slice has max −Infinity: −Infinity + log 0 is −Infinity, and x − lse NaN, as
  // PyTorch gives.
  const lse = max === -Infinity ? NaN : round(max + round(Math.log(sum)));
  for (let i = 0; i < x.length; i++) out[i] = store(round(x[i] - lse));
}

/**
 * dx = Jᵀ·g from every entry J[i][j] = δ_ij − s_j of the log_softmax Jacobian (∂y_i/∂x_j), s = exp(y):
 * each entry formed and used at once, column j summed over the rows i. O(n²) on purpose: the
 * independent witness of the closed form.
 */
export function logSoftmaxJacobianBackwardSlice(y: Float64Array, g: Float64Array, out: Float64Array, a: Arithmetic = FLOAT64_ARITHMETIC): void {
  logSoftmaxJacobianColumns(jacobianProbabilities(y, a), g, out, 0, y.length, a);
}

/** The s of the Jacobian's entries δ_ij − s_j: exp(y), rounded to the compute type. */
export function jacobianProbabilities(y: Float64Array, a: Arithmetic): Float64Array {
  return y.map((v) => a.round(Math.exp(v)));
}

/**
 * Columns `from` to `to` of dx = Jᵀ·g: those in whole blocks through the WebAssembly kernel (the
 * same bits), the rest in JavaScript. Each column depends on s and g alone, so threads may share a
 * slice's columns (parallel/jacobian-chunks.ts) with the bits of one thread.
 */
export function logSoftmaxJacobianColumns(s: Float64Array, g: Float64Array, out: Float64Array, from: number, to: number, a: Arithmetic): void {
  const n = s.length;
  const kernel = kernelFor(a);
  const fromKernel = kernel !== undefined && (to - from) * n >= KERNEL_FROM_ENTRIES ? logSoftmaxColumnsWasm(kernel, s, g, out, from, to) : from;
  for (let j = from; j < fromKernel; j++) out[j] = a.store(out[j]);
  logSoftmaxJacobianColumnsScalar(s, g, out, a, fromKernel, to);
}

/** The WebAssembly kernel for an arithmetic, when it has one: float64 throughout, or float32 throughout. */
function kernelFor(a: Arithmetic): LogSoftmaxKernel | undefined {
  if (a.compute === 'float64' && a.accumulate === 'float64') return 'float64';
  if (a.compute === 'float32' && a.accumulate === 'float32') return 'float32';
  return undefined;
}

/**
 * Columns `from` to n − 1 of dx = Jᵀ·g, s = exp(y) as rounded, in JavaScript: the specification
 * the WebAssembly kernel is held to, bit for bit.
 */
export function logSoftmaxJacobianColumnsScalar(s: Float64Array, g: Float64Array, out: Float64Array, a: Arithmetic, from = 0, to = s.length): void {
  const n = s.length;
  const { round, roundSum, store } = a;
  const kernel = kernelFor(a);
  if (kernel === 'float64') {
    // The identity roundings written out: n² entries, and V8 does not always inline the closures.
    for (let j = from; j < to; j++) {
      const sj = s[j];
      let acc = 0;
      for (let i = 0; i < n; i++) acc += ((i === j ? 1 : 0) - sj) * g[i];
      out[j] = store(acc);
    }
    return;
  }
  if (kernel === 'float32') {
    float32Columns(s, g, out, store, from, to);
    return;
  }
  for (let j = from; j < to; j++) {
    const sj = s[j];
    let acc = 0;
    for (let i = 0; i < n; i++) acc = roundSum(acc + round(round((i === j ? 1 : 0) - sj) * g[i]));
    out[j] = store(round(acc));
  }
}

/** dx = g − s·Σg, s = exp(y) read from the forward's output: what PyTorch's backward computes. */
export function logSoftmaxClosedFormBackwardSlice(y: Float64Array, g: Float64Array, out: Float64Array, a: Arithmetic = FLOAT64_ARITHMETIC): void {
  const { round, roundSum, store } = a;
  let sum = 0;
  for (let i = 0; i < g.length; i++) sum = roundSum(sum + g[i]);
  // Σg stored in the dtype, as PyTorch's half-type kernels do.
  const total = store(round(sum));
  if (a.compute === 'float32') {
    // g − e·Σg fused, one rounding, as PyTorch's vectorised kernel: e·Σg of two float32 values is
    // exact in float64, and the difference rounds once more to float32.
    for (let i = 0; i < y.length; i++) out[i] = store(round(g[i] - round(Math.exp(y[i])) * total));
    return;
  }
  for (let i = 0; i < y.length; i++) out[i] = store(round(g[i] - round(round(Math.exp(y[i])) * total)));
}

export function runLogSoftmaxJacobianMethod(x: Float64Array, g: Float64Array, layout: SliceLayout, a: Arithmetic = FLOAT64_ARITHMETIC): MethodResult {
  const forward = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  forEachSlice(layout, [x], [forward], ([xs], [ys]) => logSoftmaxLseForwardSlice(xs, ys, a));
  forEachSlice(layout, [forward, g], [grad], ([ys, gs], [dx]) => logSoftmaxJacobianBackwardSlice(ys, gs, dx, a));
  return { forward, grad };
}

export function runLogSoftmaxClosedFormMethod(x: Float64Array, g: Float64Array, layout: SliceLayout, a: Arithmetic = FLOAT64_ARITHMETIC): MethodResult {
  const forward = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  forEachSlice(layout, [x], [forward], ([xs], [ys]) => logSoftmaxClosedFormForwardSlice(xs, ys, a));
  forEachSlice(layout, [forward, g], [grad], ([ys, gs], [dx]) => logSoftmaxClosedFormBackwardSlice(ys, gs, dx, a));
  return { forward, grad };
}

/**
 * The columns in float32 operations and sums (PyTorch's arithmetic for float32 and the half types)
 * with Math.fround written out, which V8 inlines: the same operations in the same order as the
 * general loop. Four columns run together: each column's sum is a chain of dependent additions,
 * and four chains in flight take a quarter of the time of one after another.
 */
function float32Columns(s: Float64Array, g: Float64Array, out: Float64Array, store: (value: number) => number, from: number, to: number): void {
  const n = s.length;
  const fround = Math.fround;
  let j = from;
  for (; j + 4 <= to; j += 4) {
    const s0 = s[j];
    const s1 = s[j + 1];
    const s2 = s[j + 2];
    const s3 = s[j + 3];
    let acc0 = 0;
    let acc1 = 0;
    let acc2 = 0;
    let acc3 = 0;
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      acc0 = fround(acc0 + fround(fround((i === j ? 1 : 0) - s0) * gi));
      acc1 = fround(acc1 + fround(fround((i === j + 1 ? 1 : 0) - s1) * gi));
      acc2 = fround(acc2 + fround(fround((i === j + 2 ? 1 : 0) - s2) * gi));
      acc3 = fround(acc3 + fround(fround((i === j + 3 ? 1 : 0) - s3) * gi));
    }
    out[j] = store(acc0);
    out[j + 1] = store(acc1);
    out[j + 2] = store(acc2);
    out[j + 3] = store(acc3);
  }
  for (; j < to; j++) {
    const sj = s[j];
    let acc = 0;
    for (let i = 0; i < n; i++) acc = fround(acc + fround(fround((i === j ? 1 : 0) - sj) * g[i]));
    out[j] = store(acc);
  }
}

/**
 * Columns `firstColumn` to `endColumn` of the whole input, counted across its slices (column j of
 * slice k is k · length + j), into `grad`: one thread's share of a parallel run. `probabilities`
 * holds each slice's s (jacobianProbabilities); every column is computed from its own slice alone,
 * so the results do not depend on how the columns are shared.
 */
export function logSoftmaxColumnsOfSlices(
  probabilities: Float64Array,
  g: Float64Array,
  grad: Float64Array,
  layout: SliceLayout,
  firstColumn: number,
  endColumn: number,
  a: Arithmetic,
): void {
  const out = new Float64Array(layout.length);
  forEachSlicePart(layout, firstColumn, endColumn, [probabilities, g], grad, ([s, gs], from, to, write) => {
    logSoftmaxJacobianColumns(s, gs, out, from, to, a);
    for (let j = from; j < to; j++) write(j, out[j]);
  });
}
