import { JACOBIAN_KERNEL_BASE64, JACOBIAN_KERNEL_ROWS } from '../../wasm/jacobian-kernel.generated.js';
import { KERNEL_MAX_BYTES, kernelInstances } from '../../methods/wasm-instance.js';

/**
 * The explicit Jacobian's rows through a WebAssembly SIMD kernel (src/wasm/jacobian-kernel.wat.mjs):
 * vectorised across rows, each lane running one row's loop over j with the scalar loop's very
 * operations in the same order, so that every result is the scalar JavaScript's, bit for bit
 * (jacobianRowsTimesVectorScalar in jacobian-backward.ts is the specification, and the tests hold
 * the kernel to it). Every entry s_i (δ_ij − s_j) is still computed and used.
 *
 * - `float64`: float64 operations and sums, two rows a vector;
 * - `float32`: float32 operations and sums, four rows a vector;
 * - `float32Wide`: float32 operations, each term widened exactly and summed in float64.
 * The float32 kernels need s and g exactly representable in float32 (the dtype rounds them so);
 * `jacobianRowsWasm` says false, and computes nothing, when they are not.
 */
export type JacobianKernel = 'float64' | 'float32' | 'float32Wide';

interface KernelExports {
  rowsFloat64(p: number, pout: number, n: number, from: number, to: number): void;
  rowsFloat32(p: number, pout: number, n: number, from: number, to: number): void;
  rowsFloat32Wide(p: number, pout: number, n: number, from: number, to: number): void;
}

const instanceWith = kernelInstances<KernelExports>(JACOBIAN_KERNEL_BASE64);
const MAX_BYTES = KERNEL_MAX_BYTES;

/**
 * Rows per call into the kernel: a multiple of every kernel's block, about 2^20 entries (0.15 ms).
 * V8 first runs WebAssembly through its baseline compiler, two to three times as slow here, and
 * moves a function to optimised code only between calls: one call for a whole GPT-2 row would
 * run baseline code throughout.
 */
function piece(n: number): number {
  const block = Math.max(JACOBIAN_KERNEL_ROWS.float64, JACOBIAN_KERNEL_ROWS.float32, JACOBIAN_KERNEL_ROWS.float32Wide);
  return block * Math.max(1, Math.round(2 ** 20 / (n * block)));
}

function inPieces(rows: KernelExports['rowsFloat64'], pout: number, n: number, from: number, to: number): void {
  const step = piece(n);
  for (let i = from; i < to; i += step) rows(0, pout + 8 * (i - from), n, i, Math.min(to, i + step));
}

/**
 * The sums Σ_j s_i (δ_ij − s_j) g_j of rows `from` to `to` of one slice into `out[from…to)`, by
 * `kernel`, before any rounding to the dtype (a float32 sum is exact in float64). Returns false,
 * having written nothing, when a float32 kernel is given values float32 cannot hold, or when the
 * slice does not fit the kernel's memory.
 */
export function jacobianRowsWasm(kernel: JacobianKernel, s: Float64Array, g: Float64Array, out: Float64Array, from: number, to: number): boolean {
  const n = s.length;
  const width = kernel === 'float64' ? 16 : 8;
  const pout = Math.ceil((width * n) / 16) * 16;
  // Addresses are 32-bit: a slice of some 90 million elements or more stays in JavaScript.
  if (pout + 8 * (to - from) > MAX_BYTES) return false;
  const k = instanceWith(pout + 8 * (to - from));
  if (kernel === 'float64') {
    const pairs = k.float64;
    for (let j = 0; j < n; j++) {
      pairs[2 * j] = s[j];
      pairs[2 * j + 1] = g[j];
    }
    inPieces(k.exports.rowsFloat64, pout, n, from, to);
  } else {
    const pairs = k.float32;
    for (let j = 0; j < n; j++) {
      const sj = s[j];
      const gj = g[j];
      pairs[2 * j] = sj;
      pairs[2 * j + 1] = gj;
      // Not float32 (NaN stays NaN through the conversion: it is float32 too).
      if ((pairs[2 * j] !== sj && sj === sj) || (pairs[2 * j + 1] !== gj && gj === gj)) return false;
    }
    inPieces(kernel === 'float32' ? k.exports.rowsFloat32 : k.exports.rowsFloat32Wide, pout, n, from, to);
  }
  out.set(k.float64.subarray(pout / 8, pout / 8 + (to - from)), from);
  return true;
}
