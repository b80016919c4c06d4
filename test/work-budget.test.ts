import { describe, expect, test } from 'vitest';
import { autoReferenceSkip, JACOBIAN_ENTRY_LIMIT, jacobianEntries, jacobianRefusal } from '../src/work-budget.js';
import type { VerifyInput } from '../src/verify.js';

function input(shape: number[], axis: number): VerifyInput {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(size);
  return { label: 't', x: { shape, data }, g: { shape, data }, dim: axis, axis, dtype: 'float64' };
}

describe('the explicit-Jacobian budget', () => {
  test('counts n² entries per slice along the softmax dim', () => {
    expect(jacobianEntries(input([4, 7], 1))).toBe(4 * 49);
    expect(jacobianEntries(input([4, 7], 0))).toBe(7 * 16);
  });

  test('lets a run up to the limit start', () => {
    expect(jacobianRefusal(input([50_257], 0))).toBeUndefined();
    expect(jacobianEntries(input([5000, 1000], 1))).toBe(JACOBIAN_ENTRY_LIMIT);
    expect(jacobianRefusal(input([5000, 1000], 1))).toBeUndefined();
  });

  test('turns down a 300,000-logit row with the estimate and the flag that allows it', () => {
    expect(jacobianRefusal(input([300_000], 0))).toBe(
      'it would compute 9.0e10 entries (1 slice of 300000), about 14 s on one thread here, beyond the limit of 5.0e9; --allow-slow runs it',
    );
  });
});

describe('autoReferenceSkip', () => {
  test('computes the reference up to 10^7 elements, and says how to get it beyond', () => {
    expect(autoReferenceSkip(input([10, 1_000_000], 1))).toBeUndefined();
    expect(autoReferenceSkip(input([10_000_001], 0))).toBe(
      'not computed for 10000001 elements by --reference auto (limit 10000000); --reference double-double computes it, in about 1 s',
    );
  });
});
