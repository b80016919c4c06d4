import type { Arithmetic } from '../numeric/arithmetic.js';
import { jacobianKernelFor } from '../ops/softmax/jacobian-backward.js';

/**
 * When the explicit Jacobian shares its rows among threads: when one thread would spend more than
 * PARALLEL_WORK_MS on it. A worker starts in some 35 ms (Node's own start of a thread, then the
 * bundle's core chunk), on a core the main thread then shares; it takes chunks as soon as it runs.
 * Measured on float64 batches of 100 slices, one thread against two with a worker started for the
 * run: 49 ms against 67, 75 against 94, 95 against 83, 125 against 91, 192 against 133.
 */
export const PARALLEL_WORK_MS = 90;

/**
 * One thread's time per entry, in nanoseconds (measured here on slices of a few thousand): the
 * WebAssembly kernels for float64 and float32 operations, the scalar JavaScript for the other
 * arithmetics (`--compute bfloat16` or `float16`: 400 to 670, every operation rounded by a call).
 */
const NANOSECONDS_PER_ENTRY = { float64: 0.15, float32: 0.08, float32Wide: 0.2, javascript: 400 } as const;

export function jacobianNanosecondsPerEntry(a: Arithmetic): number {
  return NANOSECONDS_PER_ENTRY[jacobianKernelFor(a) ?? 'javascript'];
}

/** Whether `entries` explicit-Jacobian entries in arithmetic `a` are worth worker threads. */
export function runsInParallel(entries: number, a: Arithmetic): boolean {
  return entries * jacobianNanosecondsPerEntry(a) >= PARALLEL_WORK_MS * 1e6;
}

/**
 * Below this many entries no arithmetic is worth worker threads (the slowest route's threshold):
 * callers may stay on one thread without loading parallel-jacobian.ts. At or above it,
 * `runJacobianMethodParallel` decides by the arithmetic (`runsInParallel`).
 */
export const PARALLEL_ENTRY_THRESHOLD = (PARALLEL_WORK_MS * 1e6) / NANOSECONDS_PER_ENTRY.javascript;
