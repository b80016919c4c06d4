import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { NO_PROGRESS, type Progress } from '../progress.js';
import { FLOAT64_ARITHMETIC, type Arithmetic } from '../numeric/arithmetic.js';
import { chunksDone, takeChunks, type JacobianChunks, type JacobianTask } from './jacobian-chunks.js';
import { jacobianProbabilities, logSoftmaxLseForwardSlice, runLogSoftmaxJacobianMethod } from '../ops/log_softmax/log-softmax.js';
import { jacobianNanosecondsPerEntry, runsInParallel } from './parallel-threshold.js';
import { runJacobianMethod } from '../ops/softmax/pipelines.js';
import { forEachSlice, type SliceLayout } from '../numeric/slices.js';
import { softmaxNormalisedSlice } from '../ops/softmax/softmax-normalised.js';
import { type MethodResult } from '../methods/method-result.js';
import type { JacobianKernel } from '../ops/op-definition.js';

/**
 * The explicit-Jacobian method with its rows shared among threads. The rows of all slices, counted
 * in order across the slices (row r of slice k is k · length + r), are cut into chunks of a few
 * milliseconds' work, and each thread, the main one included, takes the next chunk until none is
 * left: a batch of many slices is shared by whole slices, one large slice by its rows, and a
 * thread that starts late or runs on a busy core simply takes fewer chunks. Every row is computed
 * by the same function as in a one-thread run, from its slice alone, so the results are
 * bit-identical however the rows are shared. Below the threshold (`parallel`, by default
 * runsInParallel of parallel-threshold.ts) it is the one-thread method itself.
 *
 * The softmax, g and the gradient sit in shared memory: the workers read the slices and write their
 * rows of the gradient in place; nothing is copied per slice or transferred (a transfer detaches a
 * buffer, after which V8 checks every typed array access in that thread).
 *
 * The worker module sits next to this one (dist/parallel/ or dist/bundle/); `workerUrl` overrides it.
 * Workers are kept for the next run in the process, unreferenced so that they never keep it alive.
 */
export async function runJacobianMethodParallel(
  x: Float64Array,
  g: Float64Array,
  layout: SliceLayout,
  a: Arithmetic = FLOAT64_ARITHMETIC,
  threads: number = availableParallelism(),
  workerUrl: URL = new URL('./jacobian-worker.js', import.meta.url),
  parallel: (entries: number, a: Arithmetic) => boolean = runsInParallel,
  kernel: JacobianKernel = 'softmax',
  progress: Progress = NO_PROGRESS,
): Promise<MethodResult> {
  const { length: n, count } = layout;
  const rows = n * count;
  if (threads < 2 || rows < 2 || !parallel(rows * n, a)) {
    return kernel === 'softmax' ? runJacobianMethod(x, g, layout, undefined, a) : runLogSoftmaxJacobianMethod(x, g, layout, a);
  }

  // The workers start up while the softmax is computed.
  const workers = acquireWorkers(workerUrl, threads - 1);
  const id = ++runs;
  const listening: (() => void)[] = [];
  try {
    // The forward output, and the s every entry is formed from: the softmax itself, or log_softmax's exp(y).
    const forward = new Float64Array(x.length);
    const probabilities = new Float64Array(x.length);
    if (kernel === 'softmax') {
      forEachSlice(layout, [x], [forward], ([xs], [ss]) => softmaxNormalisedSlice(xs, ss, a));
      probabilities.set(forward);
    } else {
      forEachSlice(layout, [x], [forward, probabilities], ([xs], [ys, ps]) => {
        logSoftmaxLseForwardSlice(xs, ys, a);
        ps.set(jacobianProbabilities(ys, a));
      });
    }
    const shared = { softmax: sharedCopy(probabilities), g: sharedCopy(g), grad: new Float64Array(new SharedArrayBuffer(8 * x.length)) };
    const chunkRows = Math.max(1, Math.min(Math.round((CHUNK_MS * 1e6) / (jacobianNanosecondsPerEntry(a) * n)), Math.ceil(rows / (4 * threads))));
    const chunks: JacobianChunks = { counters: new Int32Array(new SharedArrayBuffer(8)), chunkRows, rows };
    // Settles when every chunk is done, whoever did it; a worker that fails or exits rejects it.
    let check = (): void => {};
    const finished = new Promise<void>((resolve, reject) => {
      check = () => {
        if (chunksDone(chunks)) resolve();
      };
      for (const worker of workers) {
        const onMessage = (message: { run: number }): void => {
          if (message.run === id) check();
        };
        const onFailure = (error: Error | number): void =>
          reject(typeof error === 'number' ? new Error(`a Jacobian worker thread exited (code ${error}) during a run`) : error);
        worker.on('message', onMessage);
        worker.on('error', onFailure);
        worker.on('exit', onFailure);
        listening.push(() => {
          worker.off('message', onMessage);
          worker.off('error', onFailure);
          worker.off('exit', onFailure);
        });
      }
    });
    const task: JacobianTask = {
      run: id,
      kernel,
      softmax: shared.softmax.buffer as SharedArrayBuffer,
      g: shared.g.buffer as SharedArrayBuffer,
      grad: shared.grad.buffer as SharedArrayBuffer,
      counters: chunks.counters.buffer as SharedArrayBuffer,
      chunkRows,
      rows,
      layout: { length: layout.length, stride: layout.stride, count: layout.count },
      dtype: a.dtype,
      compute: a.compute,
      accumulate: a.accumulate,
    };
    for (const worker of workers) worker.postMessage(task);
    // Told after each of this thread's chunks: the count of all threads' chunks done.
    const step = progress.step('explicit Jacobian', Math.ceil(rows / chunkRows));
    try {
      takeChunks(shared.softmax, shared.g, shared.grad, layout, chunks, a, () => step.advance(Atomics.load(chunks.counters, 1)), kernel);
      check();
      await finished;
    } finally {
      step.end();
    }
    // Out of shared memory, so that the rest of the run reads plain arrays, as after one thread.
    return { forward, grad: new Float64Array(shared.grad) };
  } finally {
    for (const stop of listening) stop();
    releaseWorkers(workerUrl, workers);
  }
}

/** Milliseconds of one thread's work per chunk: small enough to share well, large enough that taking one costs nothing. */
const CHUNK_MS = 4;

let runs = 0;

function sharedCopy(values: Float64Array): Float64Array {
  const copy = new Float64Array(new SharedArrayBuffer(8 * values.length));
  copy.set(values);
  return copy;
}

/** Idle workers by module URL. */
const idle = new Map<string, Worker[]>();

function acquireWorkers(url: URL, count: number): Worker[] {
  const pool = (idle.get(url.href) ?? []).filter((worker) => !broken.has(worker));
  idle.set(url.href, pool);
  const workers = pool.splice(0, count);
  while (workers.length < count) {
    const worker = new Worker(url);
    // Always listened for, so that a worker failing while idle is dropped rather than thrown.
    worker.on('error', () => broken.add(worker));
    worker.on('exit', () => broken.add(worker));
    workers.push(worker);
  }
  for (const worker of workers) worker.ref();
  return workers;
}

/**
 * Back to the pool, unreferenced, even one still starting or finishing a chunk-less task: it takes
 * its tasks in order, and finds the last run's chunks all taken. A worker that failed is dropped.
 */
function releaseWorkers(url: URL, workers: readonly Worker[]): void {
  const pool = idle.get(url.href)!;
  for (const worker of workers) {
    if (broken.has(worker)) continue;
    worker.unref();
    pool.push(worker);
  }
}

const broken = new WeakSet<Worker>();

/** How many pooled workers are idle and whole (tests: a worker that failed leaves the count). */
export function idleJacobianWorkers(): number {
  return [...idle.values()].flat().filter((worker) => !broken.has(worker)).length;
}

/** Ends the pooled workers and says how many there were (tests; a process ends them itself on exit). */
export async function closeJacobianWorkers(): Promise<number> {
  const all = [...idle.values()].flat().filter((worker) => !broken.has(worker));
  idle.clear();
  await Promise.all(all.map((worker) => worker.terminate()));
  return all.length;
}
