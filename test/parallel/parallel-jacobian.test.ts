import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test, vi } from 'vitest';
import type { DType } from '../../src/dtype.js';
import { jacobianKernelFor, jacobianRowsOfSlices } from '../../src/ops/softmax/jacobian-backward.js';
import { closeJacobianWorkers, idleJacobianWorkers, runJacobianMethodParallel } from '../../src/parallel/parallel-jacobian.js';
import { PARALLEL_ENTRY_THRESHOLD, runsInParallel } from '../../src/parallel/parallel-threshold.js';
import { runJacobianMethod } from '../../src/ops/softmax/pipelines.js';
import { runLogSoftmaxJacobianMethod } from '../../src/ops/log_softmax/log-softmax.js';
import { crossEntropyOfLogSoftmax, lossLayer, runCrossEntropyJacobianMethod } from '../../src/ops/cross_entropy/cross-entropy.js';
import type { CrossEntropySpec } from '../../src/ops/cross_entropy/cross-entropy-spec.js';
import { sliceLayout } from '../../src/numeric/slices.js';
import { arithmeticFor, FLOAT64_ARITHMETIC, type ArithmeticTypes } from '../../src/numeric/arithmetic.js';
import { roundToDType } from '../../src/numeric/round-dtype.js';
import { f64 } from '../helpers/fixtures.js';
import { ROOT } from '../helpers/run-cli.js';

// The built worker (test/global-setup.ts rebuilds a stale build first); from src, vitest cannot
// start a .ts worker.
const WORKER = pathToFileURL(join(ROOT, 'dist', 'parallel', 'jacobian-worker.js'));
const always = (): boolean => true;

afterAll(async () => {
  await closeJacobianWorkers();
});

const sameBits = (a: Float64Array, b: Float64Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

function batch(shape: number[], dtype: DType): { x: Float64Array; g: Float64Array } {
  const size = shape.reduce((p, q) => p * q, 1);
  const x = f64(Array.from({ length: size }, (_, i) => roundToDType(Math.sin(i * 0.37) * 6, dtype)));
  const g = f64(Array.from({ length: size }, (_, i) => roundToDType(Math.cos(i * 1.3), dtype)));
  // A masked element, a NaN logit (its slice all NaN) and an infinite g, in three different slices.
  x[5] = -Infinity;
  x[size - 7] = NaN;
  g[Math.floor(size / 2)] = Infinity;
  return { x, g };
}

describe('the explicit Jacobian on worker threads', () => {
  const arithmetics: [DType, ArithmeticTypes][] = [
    ['float64', {}],
    ['float32', {}],
    ['float32', { accumulate: 'float64' }],
    ['bfloat16', {}],
    ['bfloat16', { compute: 'bfloat16' }],
  ];

  // 64 × 300 = 19,200 rows in chunks taken by whichever thread is free: whole slices, parts of
  // slices or both, depending on the chunk size and the threads' timing.
  test.each(arithmetics)('gives a [64, 300] batch ([16, 300] where the rows run in JavaScript) the one-thread bits, shared by slices and by rows, in %s %o', async (dtype, types) => {
    const a = arithmeticFor(dtype, types);
    // The scalar JavaScript of half-type compute is slow (some 500 ns an entry): 16 slices, three threads.
    const slow = jacobianKernelFor(a) === undefined;
    const shape = [slow ? 16 : 64, 300];
    const { x, g } = batch(shape, dtype);
    const layout = sliceLayout(shape, 1);
    const one = runJacobianMethod(x, g, layout, undefined, a);
    for (const threads of slow ? [3] : [2, 3, 4]) {
      const many = await runJacobianMethodParallel(x, g, layout, a, threads, WORKER, always);
      expect(sameBits(many.grad, one.grad), `${threads} threads`).toBe(true);
      expect(sameBits(many.forward, one.forward), `${threads} threads`).toBe(true);
    }
  }, 30_000);

  test.each([2, 3])('gives bit-identical results with %i threads, batch slices along dim 0 included', async (threads) => {
    // 8,000 × 3 along dim 0: three strided slices of 8,000, shared by rows.
    const shape = [8000, 3];
    const x = f64(Array.from({ length: 24_000 }, (_, i) => Math.sin(i * 0.37) * 6));
    const g = f64(Array.from({ length: 24_000 }, (_, i) => Math.cos(i * 1.3)));
    const layout = sliceLayout(shape, 0);
    const one = runJacobianMethod(x, g, layout);
    const many = await runJacobianMethodParallel(x, g, layout, undefined, threads, WORKER, always);
    expect(sameBits(many.grad, one.grad)).toBe(true);
    expect(sameBits(many.forward, one.forward)).toBe(true);
  }, 30_000);

  test.each([
    ['float64', [16, 300], 1],
    ['bfloat16', [16, 300], 1],
    ['float32', [2, 701, 3], 1],
    ['float64', [1, 1500], 1],
  ] as const)("shares log_softmax's columns with one thread's bits: %s %o along dim %i", async (dtype, shape, dim) => {
    const { x, g } = batch([...shape], dtype);
    const layout = sliceLayout([...shape], dim);
    const a = arithmeticFor(dtype);
    const one = runLogSoftmaxJacobianMethod(x, g, layout, a);
    for (const threads of [2, 3]) {
      const many = await runJacobianMethodParallel(x, g, layout, a, threads, WORKER, always, 'log_softmax');
      expect(sameBits(many.grad, one.grad), `${threads} threads`).toBe(true);
      expect(sameBits(many.forward, one.forward), `${threads} threads`).toBe(true);
    }
  }, 30_000);

  test("gives cross_entropy's explicit method the one-thread bits: log_softmax's columns on h, an ignored sample 0", async () => {
    const shape = [6, 400];
    const { x, g } = batch(shape, 'bfloat16');
    const layout = sliceLayout(shape, 1);
    const a = arithmeticFor('bfloat16');
    const spec: CrossEntropySpec = {
      op: 'cross_entropy',
      target: { shape: [6], data: f64([3, -100, 399, 0, 17, 250]) },
      targetKind: 'index',
      reduction: 'mean',
      labelSmoothing: 0.1,
      ignoreIndex: -100,
      weight: Float64Array.from({ length: 400 }, (_, c) => 0.5 + (c % 7) / 4),
    };
    const one = runCrossEntropyJacobianMethod(x, g.subarray(0, 1), spec, layout, a);
    const layer = lossLayer(spec, g.subarray(0, 1), layout, a);
    const columns = await runJacobianMethodParallel(x, layer.h, layout, a, 2, WORKER, always, 'log_softmax');
    const many = crossEntropyOfLogSoftmax(columns.forward, columns.grad, spec, layer, layout, a);
    expect(sameBits(many.grad, one.grad)).toBe(true);
    expect(sameBits(many.forward, one.forward)).toBe(true);
    expect(one.grad.subarray(400, 800).every((v) => Object.is(v, 0))).toBe(true);
  }, 30_000);

  test('shares one slice by its rows, strided slices of a [2, 301, 3] batch by both', async () => {
    for (const [shape, dim] of [
      [[5001], 0],
      [[2, 301, 3], 1],
    ] as [number[], number][]) {
      const { x, g } = batch(shape, 'float64');
      const layout = sliceLayout(shape, dim);
      const one = runJacobianMethod(x, g, layout);
      const many = await runJacobianMethodParallel(x, g, layout, FLOAT64_ARITHMETIC, 3, WORKER, always);
      expect(sameBits(many.grad, one.grad), JSON.stringify(shape)).toBe(true);
    }
  }, 30_000);

  test('keeps the arithmetic of a narrower dtype in its workers', async () => {
    const x = f64(Array.from({ length: 7500 }, (_, i) => Math.sin(i) * 4));
    const g = f64(Array.from({ length: 7500 }, (_, i) => Math.cos(i)));
    const a = arithmeticFor('bfloat16');
    const layout = sliceLayout([7500], 0);
    const one = runJacobianMethod(x, g, layout, undefined, a);
    const many = await runJacobianMethodParallel(x, g, layout, a, 2, WORKER, always);
    expect(Array.from(many.grad)).toEqual(Array.from(one.grad));
  }, 30_000);

  test('stays on one thread below the threshold, and keeps its workers for the next run', async () => {
    await closeJacobianWorkers();
    const { x, g } = batch([4, 300], 'float64');
    const layout = sliceLayout([4, 300], 1);
    await runJacobianMethodParallel(x, g, layout, FLOAT64_ARITHMETIC, 2, WORKER);
    expect(await closeJacobianWorkers()).toBe(0);
    await runJacobianMethodParallel(x, g, layout, FLOAT64_ARITHMETIC, 3, WORKER, always);
    await runJacobianMethodParallel(x, g, layout, FLOAT64_ARITHMETIC, 3, WORKER, always);
    expect(await closeJacobianWorkers()).toBe(2);
  }, 30_000);

  test('finishes on the threads that run when a worker cannot start, and drops that worker', async () => {
    await closeJacobianWorkers();
    const { x, g } = batch([4, 300], 'float64');
    const layout = sliceLayout([4, 300], 1);
    const one = runJacobianMethod(x, g, layout);
    const missing = pathToFileURL(join(ROOT, 'dist', 'parallel', 'no-such-worker.js'));
    const many = await runJacobianMethodParallel(x, g, layout, FLOAT64_ARITHMETIC, 2, missing, always);
    expect(sameBits(many.grad, one.grad)).toBe(true);
    // Once its error is in, the worker is out of the pool.
    await vi.waitFor(() => expect(idleJacobianWorkers()).toBe(0), { timeout: 10_000, interval: 20 });
    expect(await closeJacobianWorkers()).toBe(0);
  }, 30_000);

  test('rejects when a worker dies holding rows, rather than waiting for them', async () => {
    // A worker that takes a chunk and exits: its rows are never done.
    const dir = mkdtempSync(join(tmpdir(), 'jacobian-worker-'));
    const dying = join(dir, 'dying-worker.mjs');
    writeFileSync(dying, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (task) => { Atomics.add(new Int32Array(task.counters), 0, 1); process.exit(3); });\n");
    // One chunk a worker can take before the main thread has taken them all: a slow arithmetic, some
    // 0.5 s of rows on the main thread, against the few milliseconds the worker takes to start.
    const a = arithmeticFor('bfloat16', { compute: 'bfloat16' });
    const { x, g } = batch([12, 300], 'bfloat16');
    await expect(runJacobianMethodParallel(x, g, sliceLayout([12, 300], 1), a, 2, pathToFileURL(dying), always)).rejects.toThrow(/exited \(code 3\)/);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});

describe('the rows of a thread\'s share', () => {
  test('are written for rows counted across slices, whatever the cut', () => {
    const shape = [3, 40, 2];
    const { x, g } = batch(shape, 'float64');
    const layout = sliceLayout(shape, 1);
    const { forward: softmax, grad } = runJacobianMethod(x, g, layout);
    const rows = layout.count * layout.length;
    for (const cuts of [[0, rows], [0, 1, 39, 40, 41, 200, rows], [0, 17, 101, 102, rows]]) {
      const ours = new Float64Array(x.length).fill(NaN);
      for (let t = 0; t + 1 < cuts.length; t++) jacobianRowsOfSlices(softmax, g, ours, layout, cuts[t], cuts[t + 1], FLOAT64_ARITHMETIC);
      expect(sameBits(ours, grad), JSON.stringify(cuts)).toBe(true);
    }
  });
});

describe('the parallel threshold', () => {
  test('takes the kernels\' speed into account: a GPT-2 row and a [1000, 1000] batch run in parallel, a 2,000-logit row does not', () => {
    expect(runsInParallel(50_257 ** 2, FLOAT64_ARITHMETIC)).toBe(true);
    expect(runsInParallel(1000 * 1000 ** 2, FLOAT64_ARITHMETIC)).toBe(true);
    expect(runsInParallel(2000 ** 2, FLOAT64_ARITHMETIC)).toBe(false);
    // The scalar JavaScript (half-type compute) is worth threads from fewer entries.
    expect(runsInParallel(PARALLEL_ENTRY_THRESHOLD, arithmeticFor('bfloat16', { compute: 'bfloat16' }))).toBe(true);
    expect(runsInParallel(PARALLEL_ENTRY_THRESHOLD, FLOAT64_ARITHMETIC)).toBe(false);
  });
});
