/**
 * A worker thread's share of the explicit Jacobian: rows `from` to `to` of one slice, computed by
 * the very function the main thread uses, so that the results are bit-identical to a one-thread run.
 */
import { parentPort } from 'node:worker_threads';
import type { DType } from '../dtype.js';
import { arithmeticFor } from '../numeric/arithmetic.js';
import { jacobianRowsTimesVector } from './jacobian-backward.js';

export interface JacobianTask {
  readonly s: Float64Array;
  readonly g: Float64Array;
  readonly from: number;
  readonly to: number;
  readonly dtype: DType;
  readonly compute: DType;
  readonly accumulate: DType;
}

parentPort?.on('message', (task: JacobianTask) => {
  const out = new Float64Array(task.s.length);
  jacobianRowsTimesVector(task.s, task.g, out, task.from, task.to, arithmeticFor(task.dtype, task));
  const rows = out.slice(task.from, task.to);
  parentPort!.postMessage(rows, [rows.buffer]);
});
