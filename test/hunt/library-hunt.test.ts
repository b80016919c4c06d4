import { describe, expect, test } from 'vitest';
import { hunt, type KernelCase, type KernelResults } from '../../src/index.js';
import { OPS, type Op } from '../../src/op.js';
import { SLOW_TESTS } from '../helpers/slow-tests.js';
import { inputFromDocument } from '../../src/input/resolve-input.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { sliceLayout } from '../../src/numeric/slices.js';
import { OP_DEFINITIONS } from '../../src/ops/index.js';
import type { DType } from '../../src/dtype.js';

/**
 * An op as a kernel function: the tool's own closed form in the case's dtype (a correct kernel's
 * results), or cross_entropy with its mean not divided by the counted samples (bug 2 of
 * ../shared/kernels): reduction mean computed as sum.
 */
function ownKernel(op: Op, meanNotDivided = false) {
  return (c: KernelCase) => {
    const { op: _, dtype, dim, reduction, ...settings } = c.options;
    const { x, g, options: __, ...arrays } = c;
    const input = inputFromDocument('kernel', {
      op,
      x,
      g,
      dim: dim as number,
      dtype: dtype as DType,
      ...(reduction === undefined ? {} : { reduction: (meanNotDivided && reduction === 'mean' ? 'sum' : reduction) as 'mean' | 'sum' | 'none' }),
      ...arrays,
      ...settings,
    });
    const results = OP_DEFINITIONS[op].methods(input).closedForm(input.x.data, input.g.data, sliceLayout(input.x.shape, input.axis), arithmeticFor(input.dtype));
    const name = op === 'cross_entropy' ? 'loss' : op === 'log_softmax' ? 'log_softmax' : 'softmax';
    // A loss reduced to one number is that number (a 0-d { shape: [] } is no Values).
    const forward = op === 'cross_entropy' && c.g.shape.length === 0 ? results.forward[0] : { shape: op === 'cross_entropy' ? c.g.shape : c.x.shape, data: results.forward };
    return { [name]: forward, grad: { shape: c.x.shape, data: results.grad } } as KernelResults;
  };
}

describe('the library: hunt(request)', () => {
  // npm test: masked_softmax through its own variants (the tour reaches them at case 68); test:slow, every op, further.
  test.each(SLOW_TESTS ? OPS : (['masked_softmax'] as const))("the tool's own %s as a kernel function: no failure, the op's own variants included", async (op) => {
    const cases = SLOW_TESTS ? 400 : 80;
    const found = await hunt({ op, dtype: 'bfloat16', kernel: ownKernel(op), cases, seed: 2 });
    expect([found.cases, found.failed, found.failures.map((f) => [f.klass, f.kind, f.detail])]).toEqual([cases, 0, []]);
  }, 120_000);

  test('a mean not divided: found where the mean divides, its case shrunk', async () => {
    const found = await hunt({ op: 'cross_entropy', dtype: 'float32', kernel: ownKernel('cross_entropy', true), cases: 60, seed: 2 });
    expect(found.failed).toBeGreaterThan(0);
    const first = found.failures[0];
    expect([first.kind, first.signature.includes('forward')]).toEqual(['fail', true]);
    expect(first.shrunk.fields.reduction).toBe('mean');
    expect(first.shrunk.x.data.length).toBeLessThanOrEqual(first.original.x.data.length);
  }, 60_000);

  test('a kernel function that throws crashed on that case; the hunt goes on; a bad request is refused by name', async () => {
    const found = await hunt({
      kernel: (c) => {
        if (c.x.shape.at(-1) === 2) throw new RangeError('two is too few');
        const s = c.x.data.map(() => 1 / c.x.shape.at(-1)!);
        return { softmax: { shape: c.x.shape, data: s }, grad: { shape: c.x.shape, data: s.map(() => 0) } };
      },
      cases: 3,
      seed: 1,
      dtype: 'float64',
    });
    expect(found.cases).toBe(3);
    expect(found.failures.map((f) => [f.kind, f.klass, f.detail])).toContainEqual(['crash', 'width 2', 'it threw RangeError: two is too few']);
    await expect(hunt({ kernel: 'python3 k.py' } as never)).rejects.toThrow('request.kernel must be a function');
    const hanging = await hunt({
      kernel: (c) => (c.x.shape.at(-1) === 2 ? new Promise<never>(() => {}) : { softmax: { shape: c.x.shape, data: c.x.data.map(() => 1) }, grad: c.x }),
      cases: 3,
      seed: 1,
      caseSeconds: 0.05,
    });
    expect(hanging.failures.map((f) => [f.kind, f.klass, f.detail])).toContainEqual(['hang', 'width 2', 'no answer within 0.05 s']);
    await expect(hunt({ kernel: () => ({ declined: '' }), caseSeconds: 0 })).rejects.toThrow('request.caseSeconds must be a number above 0, got 0');
    const declining = await hunt({ kernel: () => ({ declined: 'not today' }), cases: 2, seed: 1 });
    expect([declining.declined, declining.failed]).toEqual([2, 0]);
    expect([found.byClass['width 1'], found.byClass['width 2'], declining.byClass['width 2']]).toEqual([
      { cases: 1, failed: 0, declined: 0 },
      { cases: 1, failed: 1, declined: 0 },
      { cases: 1, failed: 0, declined: 1 },
    ]);
  }, 60_000);
});
