/**
 * The explicit Jacobian's rows shared among threads by chunks: every thread, the main one included,
 * takes the next chunk of rows from a shared counter until none is left, so that the work goes to
 * whichever thread is free. A row's result does not depend on which thread computes it, nor on the
 * chunk it falls in (jacobianRowsOfSlices computes each row from its own slice alone).
 */
import type { DType } from '../dtype.js';
import type { Arithmetic } from '../numeric/arithmetic.js';
import { jacobianRowsOfSlices } from '../ops/softmax/jacobian-backward.js';
import { logSoftmaxColumnsOfSlices } from '../ops/log_softmax/log-softmax.js';
import type { SliceLayout } from '../numeric/slices.js';
import type { JacobianKernel } from '../ops/op-definition.js';

export interface JacobianChunks {
  /** [0]: the next chunk to take; [1]: chunks done. Shared by every thread of a run. */
  readonly counters: Int32Array;
  /** Rows per chunk, counted across the slices (row r of slice k is k · length + r). */
  readonly chunkRows: number;
  /** All the rows: slices times length. */
  readonly rows: number;
}

/** What a worker thread is sent for a run: shared buffers and the arithmetic, by name. */
export interface JacobianTask {
  readonly run: number;
  /** softmax: rows of J·g from the softmax; log_softmax: columns of Jᵀ·g from exp(y). */
  readonly kernel: JacobianKernel;
  readonly softmax: SharedArrayBuffer;
  readonly g: SharedArrayBuffer;
  readonly grad: SharedArrayBuffer;
  readonly counters: SharedArrayBuffer;
  readonly chunkRows: number;
  readonly rows: number;
  readonly layout: SliceLayout;
  readonly dtype: DType;
  readonly compute: DType;
  readonly accumulate: DType;
}

/**
 * Takes chunks until none is left, writing their rows of `grad`; `done` is called after each one
 * (a worker tells the main thread). Returns the number of chunks this thread did.
 */
export function takeChunks(
  softmax: Float64Array,
  g: Float64Array,
  grad: Float64Array,
  layout: SliceLayout,
  { counters, chunkRows, rows }: JacobianChunks,
  a: Arithmetic,
  done: () => void = () => {},
  kernel: JacobianKernel = 'softmax',
): number {
  const chunks = Math.ceil(rows / chunkRows);
  const ofSlices = kernel === 'softmax' ? jacobianRowsOfSlices : logSoftmaxColumnsOfSlices;
  let taken = 0;
  for (let chunk = Atomics.add(counters, 0, 1); chunk < chunks; chunk = Atomics.add(counters, 0, 1)) {
    ofSlices(softmax, g, grad, layout, chunk * chunkRows, Math.min(rows, (chunk + 1) * chunkRows), a);
    Atomics.add(counters, 1, 1);
    taken++;
    done();
  }
  return taken;
}

/** Whether every chunk is done: their rows of the gradient are written and visible to this thread. */
export function chunksDone({ counters, chunkRows, rows }: JacobianChunks): boolean {
  return Atomics.load(counters, 1) === Math.ceil(rows / chunkRows);
}
