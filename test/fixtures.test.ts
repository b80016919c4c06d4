import { describe, expect, test } from 'vitest';
import { DEFAULT_TOLERANCE } from '../src/dtype.js';
import { normaliseDim } from '../src/tensor.js';
import { judge } from '../src/core/judge.js';
import { loadFixture, pytorchFixtureNames } from './helpers/fixtures.js';
import { type VerifyInput } from '../src/core/report.js';

function fixtureInput(name: string): VerifyInput {
  const doc = loadFixture(name);
  const x = doc.x!;
  const dim = doc.dim ?? -1;
  return {
    op: 'softmax', label: name,
    source: doc.source,
    x,
    g: doc.g!,
    dim,
    axis: normaliseDim(dim, x.shape.length)!,
    dtype: doc.dtype ?? 'float64',
    expected: doc.expected,
    tolerance: doc.tolerance,
  };
}

describe('PyTorch fixtures', () => {
  test('there are fixtures to check', () => {
    expect(pytorchFixtureNames().length).toBeGreaterThanOrEqual(15);
  });

  test.each(pytorchFixtureNames())('%s: the methods agree and PyTorch is within rounding of the exact result', (name) => {
    const input = fixtureInput(name);
    const report = judge(input);
    expect(report.tolerance).toEqual(DEFAULT_TOLERANCE[input.dtype]);
    expect(report.comparisons.map((c) => `${c.quantity}: ${c.actual} vs ${c.expected}`)).toEqual([
      'forward: jacobian vs closedForm',
      'forward: expected vs exact',
      'grad: jacobian vs closedForm',
      'grad: expected vs exact',
    ]);
    for (const comparison of report.comparisons) {
      expect({ ...comparison, closeness: comparison.closeness.mismatched }).toEqual({ ...comparison, closeness: 0 });
    }
    expect(report.invariants.expected!.flaggedSlices).toBe(0);
    expect(report.passed).toBe(true);
  });

  test.each(pytorchFixtureNames())('%s: a tampered expected gradient fails', (name) => {
    const input = fixtureInput(name);
    const grad = Float64Array.from(input.expected!.grad!);
    // Move the last finite element by 1% of the largest gradient plus 1e-3: beyond what rounding
    // allows in every dtype, the cancellation term included.
    const finite = Array.from(grad, Math.abs).filter(Number.isFinite);
    const target = grad.findLastIndex(Number.isFinite);
    grad[target] += 0.01 * Math.max(...finite) + 1e-3;
    const report = judge({ ...input, expected: { ...input.expected, grad } });
    expect(report.passed).toBe(false);
    const failing = report.comparisons.filter((c) => c.closeness.mismatched > 0);
    expect(failing.map((c) => `${c.quantity}: ${c.actual} vs ${c.expected}`)).toEqual(['grad: expected vs exact']);
    expect(failing[0].closeness.worst.index).toBe(target);
    expect(failing[0].closeness.failures).toEqual([target]);
  });

  test('a tampered expected softmax fails too', () => {
    const input = fixtureInput('seed.json');
    const softmax = Float64Array.from(input.expected!.forward!);
    softmax[0] *= 1.001;
    expect(judge({ ...input, expected: { ...input.expected, forward: softmax } }).passed).toBe(false);
  });
});
