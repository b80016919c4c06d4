import { LOG_SOFTMAX_KERNEL_BASE64, LOG_SOFTMAX_KERNEL_COLUMNS } from '../../wasm/log-softmax-jacobian-kernel.generated.js';
import { KERNEL_MAX_BYTES, kernelInstances } from '../../methods/wasm-instance.js';

/**
 * The log_softmax explicit Jacobian's columns through a WebAssembly SIMD kernel
 * (src/wasm/log-softmax-jacobian-kernel.wat.mjs): vectorised across columns, each lane running one
 * column's loop over i with the scalar loop's very operations in the same order, so that every sum
 * is the scalar JavaScript's, bit for bit (logSoftmaxJacobianBackwardSlice is the specification,
 * and the tests hold the kernel to it).
 */
export type LogSoftmaxKernel = 'float64' | 'float32';

interface KernelExports {
  columnsFloat64(ps: number, pg: number, pout: number, n: number, from: number, to: number): void;
  columnsFloat32(ps: number, pg: number, pout: number, n: number, from: number, to: number): void;
}

const instanceWith = kernelInstances<KernelExports>(LOG_SOFTMAX_KERNEL_BASE64);
const MAX_BYTES = KERNEL_MAX_BYTES;

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * The sums Σ_i (δ_ij − s_j) g_i of the columns from `from` in whole blocks, up to `to` at most,
 * into `out[from…)` (before any rounding to the dtype: a float32 sum is exact in float64). Returns
 * the column it stopped at: the caller does the rest. `from` when a float32 kernel is given values
 * float32 cannot hold, or the slice does not fit the kernel's memory.
 */
export function logSoftmaxColumnsWasm(kernel: LogSoftmaxKernel, s: Float64Array, g: Float64Array, out: Float64Array, from = 0, to = s.length): number {
  const n = s.length;
  const block = LOG_SOFTMAX_KERNEL_COLUMNS[kernel];
  const done = to - ((to - from) % block);
  if (done === from) return from;
  const width = kernel === 'float64' ? 8 : 4;
  const pg = align(width * n);
  const pout = pg + align(width * n);
  if (pout + 8 * (done - from) > MAX_BYTES) return from;
  const k = instanceWith(pout + 8 * (done - from));
  if (kernel === 'float64') {
    k.float64.set(s, 0);
    k.float64.set(g, pg / 8);
  } else {
    const values = k.float32;
    for (let j = 0; j < n; j++) {
      values[j] = s[j];
      values[pg / 4 + j] = g[j];
      // Not float32 (NaN stays NaN through the conversion: it is float32 too).
      if ((values[j] !== s[j] && s[j] === s[j]) || (values[pg / 4 + j] !== g[j] && g[j] === g[j])) return from;
    }
  }
  const columns = kernel === 'float64' ? k.exports.columnsFloat64 : k.exports.columnsFloat32;
  // Calls of about 2^20 entries: V8 moves a WebAssembly function to optimised code between calls.
  const step = block * Math.max(1, Math.round(2 ** 20 / (n * block)));
  for (let j = from; j < done; j += step) columns(0, pg, pout + 8 * (j - from), n, j, Math.min(done, j + step));
  out.set(k.float64.subarray(pout / 8, pout / 8 + (done - from)), from);
  return done;
}
