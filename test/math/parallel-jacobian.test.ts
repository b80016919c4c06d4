import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { runJacobianMethodParallel } from '../../src/math/parallel-jacobian.js';
import { runJacobianMethod } from '../../src/math/pipelines.js';
import { sliceLayout } from '../../src/math/slices.js';
import { f64 } from '../helpers/fixtures.js';
import { ROOT } from '../helpers/run-cli.js';

// The built worker (npm test builds first); from src, vitest cannot start a .ts worker.
const WORKER = pathToFileURL(join(ROOT, 'dist', 'math', 'jacobian-worker.js'));

describe('the explicit Jacobian on worker threads', () => {
  test.each([2, 3])('gives bit-identical results with %i threads, batch slices along dim 0 included', async (threads) => {
    // 8,000 × 3 along dim 0: three strided slices of 8,000, each above the parallel threshold.
    const shape = [8000, 3];
    const x = f64(Array.from({ length: 24_000 }, (_, i) => Math.sin(i * 0.37) * 6));
    const g = f64(Array.from({ length: 24_000 }, (_, i) => Math.cos(i * 1.3)));
    const layout = sliceLayout(shape, 0);
    const one = runJacobianMethod(x, g, layout);
    const many = await runJacobianMethodParallel(x, g, layout, undefined, threads, WORKER);
    expect(Array.from(many.grad).every((v, i) => Object.is(v, one.grad[i]))).toBe(true);
    expect(Array.from(many.softmax).every((v, i) => Object.is(v, one.softmax[i]))).toBe(true);
  }, 30_000);

  test('keeps the arithmetic of a narrower dtype in its workers', async () => {
    const x = f64(Array.from({ length: 7500 }, (_, i) => Math.sin(i) * 4));
    const g = f64(Array.from({ length: 7500 }, (_, i) => Math.cos(i)));
    const a = arithmeticFor('bfloat16');
    const layout = sliceLayout([7500], 0);
    const one = runJacobianMethod(x, g, layout, undefined, a);
    const many = await runJacobianMethodParallel(x, g, layout, a, 2, WORKER);
    expect(Array.from(many.grad)).toEqual(Array.from(one.grad));
  }, 30_000);
});
