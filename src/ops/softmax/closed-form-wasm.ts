import { CLOSED_FORM_KERNEL_BASE64, KERNEL_CHUNK, KERNEL_DATA_START as DATA_START } from '../../wasm/closed-form-kernel.generated.js';
import { closedFormFloat64Scalar, closedFormJavaScriptRoute, finishClosedForm } from './closed-form-float64-scalar.js';

/**
 * The float64 closed form through a WebAssembly SIMD kernel (src/wasm/closed-form-kernel.wat.mjs):
 * the shape of PyTorch's CPU softmax kernels, in three passes over the slice:
 *   m = max x;  e_j = exp(x_j − m), Σ e_j and Σ e_j g_j;  s_j = e_j · (1/Σ e), dx_j = s_j (g_j − ⟨s, g⟩)
 * with ⟨s, g⟩ = Σ e_j g_j / Σ e_j. The exponential is the kernel's own (table-driven, error below
 * 0.522 ulp, tested against the accurate exponential), not Math.exp, which the Jacobian pipeline
 * uses: the two pipelines' softmax columns compare two independent exponentials.
 *
 * Why WebAssembly: the plain JavaScript closed form spends most of its time in Math.exp, one
 * element at a time; the kernel works on two float64 lanes at once and inlines its exponential.
 */
interface KernelExports {
  readonly memory: WebAssembly.Memory;
  maxOrNaN(px: number, n: number): number;
  expSumDot(px: number, pg: number, pe: number, n: number, m: number): number;
  weightedSum(): number;
  scaleAndGradient(ps: number, pg: number, pd: number, n: number, inverse: number, dot: number): void;
  expArray(pt: number, pe: number, n: number): void;
}

/**
 * Slices shorter than this run the kernel's JavaScript twin (closed-form-float64-scalar.ts), with
 * the same bits: below it the copies and calls into WebAssembly cost more than the kernel's
 * faster exponentials save (measured on rows of a batch: 16 elements, kernel 28 ns per element,
 * twin 19; 64, 12 and 13; 256, 7 and 12), and the built-in example never compiles the kernel.
 */
export const KERNEL_FROM = 64;

let kernel: KernelExports | undefined;

/** The kernel, compiled on first use (about a millisecond for its 5 KB). */
export function closedFormKernel(): KernelExports {
  if (kernel === undefined) {
    const bytes = Buffer.from(CLOSED_FORM_KERNEL_BASE64, 'base64');
    kernel = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as KernelExports;
  }
  return kernel;
}

export const CHUNK = KERNEL_CHUNK;

/** A float64 view of the kernel's memory (which never grows) and the element offsets of its three chunk arrays. */
function chunkArrays(k: KernelExports): { view: Float64Array; px: number; pg: number; pd: number } {
  const px = DATA_START / 8;
  return { view: new Float64Array(k.memory.buffer), px, pg: px + CHUNK, pd: px + 2 * CHUNK };
}

/** Softmax and gradient of one float64 slice into `softmax` and `grad`: the kernel, or its twin below KERNEL_FROM. */
export function closedFormFloat64Slice(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): void {
  if (x.length < KERNEL_FROM) closedFormFloat64Scalar(x, g, softmax, grad);
  else closedFormFloat64Kernel(x, g, softmax, grad);
}

/**
 * The kernel on one slice of any length, in three passes of chunks: the largest logit; e_j, Σ e_j
 * and Σ e_j g_j (e_j parked in `softmax`); then s_j and dx_j. The sums add the chunks' partial sums
 * in order, so a result depends only on the slice, not on its place in the input. Slices whose
 * largest logit is not finite take the JavaScript route (closedFormJavaScriptRoute: NaN throughout).
 */
export function closedFormFloat64Kernel(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): void {
  const n = x.length;
  const k = closedFormKernel();
  const { view, px, pg, pd } = chunkArrays(k);
  let m = -Infinity;
  for (let start = 0; start < n; start += CHUNK) {
    const end = Math.min(n, start + CHUNK);
    view.set(x.subarray(start, end), px);
    m = Math.max(m, k.maxOrNaN(8 * px, end - start));
  }
  if (!Number.isFinite(m)) return closedFormJavaScriptRoute(x, g, softmax, grad);

  let sum = 0;
  let weighted = 0;
  for (let start = 0; start < n; start += CHUNK) {
    const end = Math.min(n, start + CHUNK);
    view.set(x.subarray(start, end), px);
    view.set(g.subarray(start, end), pg);
    sum += k.expSumDot(8 * px, 8 * pg, 8 * pd, end - start, m);
    weighted += k.weightedSum();
    softmax.set(view.subarray(pd, pd + end - start), start);
  }
  if (!Number.isFinite(weighted)) return finishClosedForm(softmax, g, grad, sum, weighted);

  const inverse = 1 / sum;
  const dot = weighted / sum;
  for (let start = 0; start < n; start += CHUNK) {
    const end = Math.min(n, start + CHUNK);
    view.set(softmax.subarray(start, end), px);
    view.set(g.subarray(start, end), pg);
    k.scaleAndGradient(8 * px, 8 * pg, 8 * pd, end - start, inverse, dot);
    softmax.set(view.subarray(px, px + end - start), start);
    grad.set(view.subarray(pd, pd + end - start), start);
  }
}
