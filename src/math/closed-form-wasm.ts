import { CLOSED_FORM_KERNEL_BASE64, KERNEL_DATA_START as DATA_START } from '../wasm/closed-form-kernel.generated.js';
import { closedFormBackwardSlice } from './closed-form-backward.js';
import { softmaxLogSumExpSlice } from './softmax-log-sum-exp.js';

/**
 * The float64 closed form through a WebAssembly SIMD kernel (src/wasm/closed-form-kernel.wat.mjs):
 * the shape of PyTorch's CPU softmax kernels, in three passes over the slice:
 *   m = max x;  e_j = exp(x_j − m), Σ e_j and Σ e_j g_j;  s_j = e_j · (1/Σ e), dx_j = s_j (g_j − ⟨s, g⟩)
 * with ⟨s, g⟩ = Σ e_j g_j / Σ e_j. The exponential is the kernel's own (table-driven, error below
 * 0.52 ulp, tested against the accurate exponential), not Math.exp, which the Jacobian pipeline
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

const PAGE = 65536;
/** Four arrays of this many float64s stay within 2 GiB of kernel memory; longer slices run in JavaScript. */
export const KERNEL_MAX_ELEMENTS = 2 ** 26;

let kernel: KernelExports | undefined;

/** The kernel, compiled on first use (about a millisecond for its 5 KB). */
export function closedFormKernel(): KernelExports {
  if (kernel === undefined) {
    const bytes = Buffer.from(CLOSED_FORM_KERNEL_BASE64, 'base64');
    kernel = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as KernelExports;
  }
  return kernel;
}

/**
 * A float64 view of the kernel's memory, grown to hold `arrays` arrays of `n` elements from
 * DATA_START, and the element offset of each array (each 16-byte aligned). Undefined if the
 * memory cannot grow that far.
 */
export function kernelArrays(k: KernelExports, n: number, arrays: number): { view: Float64Array; offsets: number[] } | undefined {
  const stride = n + (n & 1);
  const bytes = DATA_START + arrays * stride * 8;
  const have = k.memory.buffer.byteLength;
  if (bytes > have) {
    try {
      k.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch {
      return undefined;
    }
  }
  const offsets = Array.from({ length: arrays }, (_, a) => DATA_START / 8 + a * stride);
  return { view: new Float64Array(k.memory.buffer), offsets };
}

/**
 * Softmax and gradient of one float64 slice into `softmax` and `grad`. Slices whose largest logit
 * is not finite (a NaN, a +Infinity, or nothing but −Infinity: NaN throughout either way) and
 * slices too long for the kernel's memory take the JavaScript route instead.
 */
export function closedFormFloat64Slice(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): void {
  const n = x.length;
  const k = closedFormKernel();
  const memory = n <= KERNEL_MAX_ELEMENTS ? kernelArrays(k, n, 4) : undefined;
  if (memory === undefined) return javascriptRoute(x, g, softmax, grad);
  const { view, offsets: [px, pg, ps, pd] } = memory;
  view.set(x, px);
  view.set(g, pg);
  const m = k.maxOrNaN(8 * px, n);
  if (!Number.isFinite(m)) return javascriptRoute(x, g, softmax, grad);
  const sum = k.expSumDot(8 * px, 8 * pg, 8 * ps, n, m);
  const weighted = k.weightedSum();
  if (Number.isFinite(weighted)) {
    k.scaleAndGradient(8 * ps, 8 * pg, 8 * pd, n, 1 / sum, weighted / sum);
    softmax.set(view.subarray(ps, ps + n));
    grad.set(view.subarray(pd, pd + n));
    return;
  }
  // Σ e_j g_j overflowed, or g holds ±Infinity or NaN: ⟨s, g⟩ from the probabilities instead,
  // which cannot overflow where ⟨s, g⟩ itself does not.
  const inverse = 1 / sum;
  for (let j = 0; j < n; j++) softmax[j] = view[ps + j] * inverse;
  closedFormBackwardSlice(softmax, g, grad);
}

function javascriptRoute(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): void {
  softmaxLogSumExpSlice(x, softmax);
  closedFormBackwardSlice(softmax, g, grad);
}
