import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { FLOAT64_ARITHMETIC, type Arithmetic } from '../numeric/arithmetic.js';
import { jacobianRowsTimesVector } from './jacobian-backward.js';
import { PARALLEL_ENTRY_THRESHOLD } from './parallel-threshold.js';
import type { MethodResult } from './pipelines.js';
import { forEachSlice, sliceStart, type SliceLayout } from './slices.js';
import { softmaxNormalisedSlice } from './softmax-normalised.js';
import type { JacobianTask } from './jacobian-worker.js';


/**
 * The explicit-Jacobian method with its large slices' rows shared among threads: the main thread
 * takes the first share, worker threads the rest. Every row is computed by the same function as
 * in a one-thread run, so the results are bit-identical whatever the number of threads.
 *
 * The worker module sits next to this one (dist/math/ or dist/bundle/); `workerUrl` overrides it.
 */
export async function runJacobianMethodParallel(
  x: Float64Array,
  g: Float64Array,
  layout: SliceLayout,
  a: Arithmetic = FLOAT64_ARITHMETIC,
  threads: number = availableParallelism(),
  workerUrl: URL = new URL('./jacobian-worker.js', import.meta.url),
): Promise<MethodResult> {
  const softmax = new Float64Array(x.length);
  const grad = new Float64Array(x.length);
  forEachSlice(layout, [x], [softmax], ([xs], [ss]) => softmaxNormalisedSlice(xs, ss, a));
  const slices: { s: Float64Array; g: Float64Array; k: number }[] = [];
  forEachSlice(layout, [softmax, g], [], ([ss, gs], _, k) => slices.push({ s: Float64Array.from(ss), g: Float64Array.from(gs), k }));

  const workers: Worker[] = [];
  try {
    for (const { s, g: gs, k } of slices) {
      const n = s.length;
      const out = new Float64Array(n);
      const shares = n * n >= PARALLEL_ENTRY_THRESHOLD ? Math.max(1, Math.min(threads, n)) : 1;
      const bounds = Array.from({ length: shares + 1 }, (_, t) => Math.round((t * n) / shares));
      while (workers.length < shares - 1) workers.push(new Worker(workerUrl));
      const pending = workers.slice(0, shares - 1).map(
        (worker, t) =>
          new Promise<void>((resolve, reject) => {
            const task: JacobianTask = { s, g: gs, from: bounds[t + 1], to: bounds[t + 2], dtype: a.dtype, compute: a.compute, accumulate: a.accumulate };
            worker.once('message', (rows: Float64Array) => {
              out.set(rows, task.from);
              resolve();
            });
            worker.once('error', reject);
            worker.postMessage(task);
          }),
      );
      jacobianRowsTimesVector(s, gs, out, bounds[0], bounds[1], a);
      await Promise.all(pending);
      const start = sliceStart(layout, k);
      for (let j = 0; j < n; j++) grad[start + j * layout.stride] = out[j];
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return { softmax, grad };
}
