import { describe, expect, test } from 'vitest';
import { readInput, verify } from '../src/index.js';

/**
 * cross_entropy and log_softmax where PyTorch's results are not finite, or its arguments are
 * unusual but valid: each gives PyTorch's own values a PASS (a review found each one judged
 * wrongly or refused).
 */
describe('the softmax family at its edges', () => {
  test('a masked target class: PyTorch\'s infinite loss is the exact one', async () => {
    const report = await verify({ op: 'cross_entropy', x: [[1, -Infinity, 3]], target: [1], expected: { loss: Infinity } }, { reference: 'double-double' });
    expect(report.passed).toBe(true);
    expect(report.exact?.forward[0]).toBe(Infinity);
    expect(report.reference?.forward[0]).toBe(Infinity);
  });

  test('a masked class with weight 0 and smoothing: NaN in both methods, as in PyTorch', async () => {
    const report = await verify({ op: 'cross_entropy', x: [[1, -Infinity, 3], [4, 5, 6]], target: [0, 2], weight: [1, 0, 1], labelSmoothing: 0.1 });
    expect(report.passed).toBe(true);
    expect(report.results.jacobian?.forward[0]).toBeNaN();
    expect(report.results.closedForm.forward[0]).toBeNaN();
  });

  test('negative class weights (PyTorch takes them) pass', async () => {
    const report = await verify({ op: 'cross_entropy', x: [[1, 2, 3], [4, 5, 6]], target: [0, 1], weight: [1, -2, 3] });
    expect(report.passed).toBe(true);
    expect(report.comparisons.every((c) => c.closeness.worst.value >= 0 && c.closeness.worst.value < 1)).toBe(true);
  });

  test('every target ignored under mean: the loss NaN and the gradient 0, as PyTorch gives them', async () => {
    const report = await verify({ op: 'cross_entropy', x: [[1, 2, 3], [4, 5, 6]], target: [-100, -100], expected: { loss: NaN, grad: [[0, 0, 0], [0, 0, 0]] } });
    expect(report.passed).toBe(true);
  });

  test('an all-masked row: PyTorch\'s NaN log_softmax and gradient, with no flag on its sums', async () => {
    const y = [-2.4076059644443806, -1.4076059644443804, -0.4076059644443804];
    const report = await verify({
      op: 'log_softmax',
      x: [[1, 2, 3], [-Infinity, -Infinity, -Infinity]],
      g: [[1, 0, 0], [1, 1, 1]],
      expected: { log_softmax: [y, [NaN, NaN, NaN]] },
    });
    expect(report.passed).toBe(true);
    expect(report.invariants.expected?.flaggedSlices).toBe(0);
  });

  test('a negative ignore_index with probability targets ignores nothing, as in PyTorch; a class index is refused', async () => {
    const request = { op: 'cross_entropy' as const, x: [[1, 2, 3]], target: [[0.2, 0.3, 0.5]] };
    expect((await verify({ ...request, ignoreIndex: -100 })).passed).toBe(true);
    await expect(verify({ ...request, ignoreIndex: 1 })).rejects.toThrow('ignore_index is for class-index targets');
  });

  test('readInput takes the settings a file cannot carry (an .npz with no reduction)', async () => {
    await expect(readInput('test/data/dumps/cross-entropy.npz')).resolves.toMatchObject({ op: 'cross_entropy', reduction: 'mean', labelSmoothing: 0 });
    const request = await readInput('test/data/dumps/cross-entropy.npz', { labelSmoothing: 0.1 });
    expect((await verify(request)).passed).toBe(true);
  });
});
