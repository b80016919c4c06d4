import { FLOAT64_ARITHMETIC, type Arithmetic } from '../../numeric/arithmetic.js';
import { jacobianRowsWasm, type JacobianKernel } from './jacobian-wasm.js';
import { forEachSlicePart, type SliceLayout } from '../../numeric/slices.js';

/**
 * Input gradient of softmax through its explicit Jacobian: every entry
 * `J[i][j] = s_i (δ_ij − s_j)` is computed, then `dx_i = Σ_j J[i][j] g_j`.
 *
 * This is deliberately the O(n²) route. It is one of two witnesses for the gradient: folding the
 * sum algebraically would turn it into the closed form (`closed-form-backward.ts`) and leave the
 * tool checking one formula against itself. Keep every entry.
 *
 * In a narrower dtype every entry and product is rounded to the compute type, each row's sum
 * accumulates in `a.accumulate`, and the gradient is stored in the dtype.
 *
 * Up to `materialiseLimit` elements the n×n matrix is built (128 KiB at n = 128); above it each
 * entry is computed and used at once, so memory stays O(1) beyond s and g. Both routes compute the
 * same entries and sum them in the same order, so their results are bit-identical. The limit is
 * low because streaming is also the faster route: it stays in cache, where a materialised
 * 1,000 × 1,000 matrix (8 MB) costs several times as much per entry here.
 */
export const JACOBIAN_MATERIALISE_LIMIT = 128;

export function jacobianEntry(s: Float64Array, i: number, j: number, round: (v: number) => number = identity): number {
  return round(s[i] * round((i === j ? 1 : 0) - s[j]));
}

/** The full n×n Jacobian of softmax at `s`, row-major. */
export function jacobianMatrix(s: Float64Array, a: Arithmetic = FLOAT64_ARITHMETIC): Float64Array {
  const n = s.length;
  const jac = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) jac[i * n + j] = jacobianEntry(s, i, j, a.round);
  }
  return jac;
}

const identity = (v: number): number => v;

/**
 * `dx = J·g` for one slice, from every entry of `J`.
 *
 * Special cases: a masked element (`s_i = 0`) has an all-zero row, so `dx_i = 0` for finite `g`;
 * a NaN anywhere in `s` or `g` reaches every `dx_i` whose row touches it.
 *
 * @example jacobianBackwardSlice([0.25, 0.75], [1, 0]) → [0.1875, -0.1875]
 */
export function jacobianBackwardSlice(
  s: Float64Array,
  g: Float64Array,
  out: Float64Array,
  materialiseLimit: number = JACOBIAN_MATERIALISE_LIMIT,
  a: Arithmetic = FLOAT64_ARITHMETIC,
): void {
  const n = s.length;
  if (n <= materialiseLimit) {
    const jac = jacobianMatrix(s, a);
    for (let i = 0; i < n; i++) out[i] = rowTimesVector(jac, i * n, g, a);
    return;
  }
  jacobianRowsTimesVector(s, g, out, 0, n, a);
}

/**
 * dx_i for rows `from` to `to`: each entry J[i][j] computed and used at once, in the same order
 * and with the same roundings as the materialised matrix, so the results are bit-identical, in
 * O(1) memory and one pass over s and g per row. Worker threads call this on their share of rows.
 *
 * In float64 (operations and sums) and in float32 operations (sums in float32 or float64) the rows
 * run through the WebAssembly kernel of jacobian-wasm.ts, which gives the bits of
 * `jacobianRowsTimesVectorScalar` (its specification) several times as fast; the other arithmetics,
 * short runs of rows and float32 kernels given values float32 cannot hold run the scalar loops.
 */
export function jacobianRowsTimesVector(s: Float64Array, g: Float64Array, out: Float64Array, from: number, to: number, a: Arithmetic): void {
  if ((to - from) * s.length >= KERNEL_FROM_ENTRIES && jacobianRowsByKernel(s, g, out, from, to, a)) return;
  jacobianRowsTimesVectorScalar(s, g, out, from, to, a);
}

/**
 * The rows through the kernel for arithmetic `a`, rounded to the dtype as the scalar loops round
 * them (store(round(sum))). Returns false, having written nothing, when no kernel computes the
 * scalar loop's bits: another arithmetic, or float32 operations given values float32 cannot hold.
 */
export function jacobianRowsByKernel(s: Float64Array, g: Float64Array, out: Float64Array, from: number, to: number, a: Arithmetic): boolean {
  const kernel = jacobianKernelFor(a);
  if (kernel === undefined || !jacobianRowsWasm(kernel, s, g, out, from, to)) return false;
  if (kernel !== 'float64') for (let i = from; i < to; i++) out[i] = a.store(Math.fround(out[i]));
  else if (a.dtype !== 'float64') for (let i = from; i < to; i++) out[i] = a.store(out[i]);
  return true;
}

/**
 * Below this many entries (rows times n) the rows stay in JavaScript: the copy into the kernel's
 * memory and the call cost more than the kernel saves (measured on whole slices, ns per entry,
 * JavaScript and kernel: n = 8, 1.7 and 1.5; n = 12, 2.8 and 2.2; n = 16, 1.5 and 0.8).
 */
export const KERNEL_FROM_ENTRIES = 128;

/**
 * Which kernel computes the scalar loop's bits in arithmetic `a`, if any: the float64 loop (float64
 * operations and sums; a float64 dtype takes it whatever `compute` says, as the scalar loop does),
 * the float32 loop with float32 sums, or with float64 sums.
 */
export function jacobianKernelFor(a: Arithmetic): JacobianKernel | undefined {
  if (a.accumulate === 'float64' && (a.dtype === 'float64' || a.compute === 'float64')) return 'float64';
  if (a.compute === 'float32' && a.accumulate === 'float32') return 'float32';
  if (a.compute === 'float32' && a.accumulate === 'float64') return 'float32Wide';
  return undefined;
}

/**
 * The specification of the rows: the same as `jacobianRowsTimesVector`, in plain JavaScript, one
 * row and one entry at a time. The kernel must match it bit for bit.
 */
export function jacobianRowsTimesVectorScalar(s: Float64Array, g: Float64Array, out: Float64Array, from: number, to: number, a: Arithmetic): void {
  const n = s.length;
  const { round, roundSum } = a;
  if (a.dtype === 'float64' && a.accumulate === 'float64') {
    // The same arithmetic with the identity roundings written out: this loop is the tool's
    // hottest (n² entries), and V8 does not always inline the closures.
    for (let i = from; i < to; i++) {
      const si = s[i];
      let acc = 0;
      for (let j = 0; j < n; j++) acc += si * ((i === j ? 1 : 0) - s[j]) * g[j];
      out[i] = acc;
    }
    return;
  }
  if (a.compute === 'float32' && (a.accumulate === 'float64' || a.accumulate === 'float32')) {
    float32RowsTimesVector(s, g, out, from, to, a);
    return;
  }
  for (let i = from; i < to; i++) {
    let acc = 0;
    for (let j = 0; j < n; j++) acc = roundSum(acc + round(jacobianEntry(s, i, j, round) * g[j]));
    out[i] = a.store(round(acc));
  }
}

/**
 * Rows `firstRow` to `endRow` of the whole input, counted across its slices (row r of slice k is
 * k · length + r), into `grad`: one thread's share of a parallel run, whole slices, parts of slices
 * or both. Each row is computed by `jacobianRowsTimesVector` from its own slice alone, so the
 * results do not depend on how the rows are shared.
 */
export function jacobianRowsOfSlices(
  softmax: Float64Array,
  g: Float64Array,
  grad: Float64Array,
  layout: SliceLayout,
  firstRow: number,
  endRow: number,
  a: Arithmetic,
): void {
  const out = new Float64Array(layout.length);
  forEachSlicePart(layout, firstRow, endRow, [softmax, g], grad, ([s, gs], from, to, write) => {
    jacobianRowsTimesVector(s, gs, out, from, to, a);
    for (let i = from; i < to; i++) write(i, out[i]);
  });
}

/**
 * The rows in float32 operations (float32 itself, and the half types' float32 "opmath"), sums in
 * float64 or float32, with Math.fround written out instead of called through the arithmetic's
 * closures: the same operations in the same order, so the same bits, about three times as fast.
 */
function float32RowsTimesVector(s: Float64Array, g: Float64Array, out: Float64Array, from: number, to: number, a: Arithmetic): void {
  const n = s.length;
  const f = Math.fround;
  const sumsInFloat32 = a.accumulate === 'float32';
  for (let i = from; i < to; i++) {
    const si = s[i];
    let acc = 0;
    if (sumsInFloat32) {
      for (let j = 0; j < n; j++) acc = f(acc + f(f(si * f((i === j ? 1 : 0) - s[j])) * g[j]));
    } else {
      for (let j = 0; j < n; j++) acc += f(f(si * f((i === j ? 1 : 0) - s[j])) * g[j]);
    }
    out[i] = a.store(f(acc));
  }
}

/** Σ_j J[i][j] g_j: products in the dtype, the sum in the accumulation type, then the dtype. */
function rowTimesVector(matrix: Float64Array, offset: number, g: Float64Array, a: Arithmetic): number {
  const { round, roundSum } = a;
  let acc = 0;
  for (let j = 0; j < g.length; j++) acc = roundSum(acc + round(matrix[offset + j] * g[j]));
  return a.store(round(acc));
}
