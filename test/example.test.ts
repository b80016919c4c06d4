import { describe, expect, test } from 'vitest';
import { builtInExample } from '../src/example.js';
import { judge } from '../src/core/judge.js';
import { loadFixture } from './helpers/fixtures.js';

// PyTorch's printed values for the seed case, rounded to 8 decimals (from fixtures/pytorch/seed.json).
const seed = loadFixture('seed.json');
const round8 = (values: ArrayLike<number>): string[] => Array.from(values, (v) => v.toFixed(8));

describe('the built-in example', () => {
  test('is x = 1..9, g = 11..19 along the last dim in float64', () => {
    const example = builtInExample();
    expect(Array.from(example.x.data)).toEqual(Array.from(seed.x!.data));
    expect(Array.from(example.g.data)).toEqual(Array.from(seed.g!.data));
    expect([example.dim, example.dtype]).toEqual([seed.dim, seed.dtype]);
  });

  test('carries exactly the PyTorch values and source of fixtures/pytorch/seed.json', () => {
    const example = builtInExample();
    expect(example.expected).toEqual(seed.expected);
    expect(example.source).toBe(seed.source);
  });

  test('both methods reproduce PyTorch to 8 decimals', () => {
    const report = judge(builtInExample());
    for (const method of ['jacobian', 'closedForm'] as const) {
      expect(round8(report.results[method]!.forward)).toEqual(round8(seed.expected!.forward!));
      expect(round8(report.results[method]!.grad)).toEqual(round8(seed.expected!.grad!));
    }
    expect(round8(report.results.jacobian!.forward).join(' ')).toBe(
      '0.00021208 0.00057649 0.00156706 0.00425972 0.01157912 0.03147531 0.08555877 0.23257286 0.63219858',
    );
    expect(report.passed).toBe(true);
  });
});
