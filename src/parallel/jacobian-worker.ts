/**
 * A worker thread of the explicit Jacobian: it takes chunks of rows of a run (jacobian-chunks.ts)
 * until none is left, computing them by the very function the main thread uses, so that the
 * results are bit-identical to a one-thread run. The softmax, g and the gradient are shared memory:
 * the rows are written in place, and the main thread is told after each chunk.
 */
import { parentPort } from 'node:worker_threads';
import { arithmeticFor } from '../numeric/arithmetic.js';
import { takeChunks, type JacobianTask } from './jacobian-chunks.js';

export type { JacobianTask } from './jacobian-chunks.js';

parentPort?.on('message', (task: JacobianTask) => {
  const chunks = { counters: new Int32Array(task.counters), chunkRows: task.chunkRows, rows: task.rows };
  const [softmax, g, grad] = [task.softmax, task.g, task.grad].map((buffer) => new Float64Array(buffer));
  takeChunks(softmax, g, grad, task.layout, chunks, arithmeticFor(task.dtype, task), () => parentPort!.postMessage({ run: task.run }), task.kernel);
});
