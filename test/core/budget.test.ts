import { describe, expect, test } from 'vitest';
import {
  autoReferenceOverBudget,
  bigNumberOverBudget,
  finiteDifferencesOverBudget,
  JACOBIAN_ENTRY_LIMIT,
  jacobianEntries,
  jacobianOverBudget,
  OverBudgetError,
} from '../../src/core/budget.js';
import { InputError } from '../../src/input-error.js';
import { describeBudget, FLAG_WORDS } from '../../src/output/describe-budget.js';
import type { VerifyInput } from '../../src/verify.js';

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
    expect(jacobianOverBudget(input([50_257], 0))).toBeUndefined();
    expect(jacobianEntries(input([5000, 1000], 1))).toBe(JACOBIAN_ENTRY_LIMIT);
    expect(jacobianOverBudget(input([5000, 1000], 1))).toBeUndefined();
  });

  test('turns down a 300,000-logit row as data: the work, the limit, the estimate', () => {
    expect(jacobianOverBudget(input([300_000], 0))).toEqual({ kind: 'jacobian', entries: 9e10, limit: 5e9, seconds: 9e10 * 0.15e-9 });
  });

  test('holds the scalar arithmetics (--compute bfloat16, 400 ns an entry) to 40 s of work, not 5e9 entries', () => {
    const row = input([50_257], 0);
    expect(jacobianOverBudget(row, { compute: 'float64' })).toBeUndefined();
    const slow = jacobianOverBudget({ ...row, dtype: 'bfloat16' }, { compute: 'bfloat16' });
    expect(slow).toMatchObject({ kind: 'jacobian', entries: 50_257 ** 2, limit: 1e8 });
    expect(slow!.seconds).toBeCloseTo(50_257 ** 2 * 400e-9, 6);
    expect(jacobianOverBudget({ ...input([10_000], 0), dtype: 'bfloat16' }, { compute: 'bfloat16' })).toBeUndefined();
  });

  test('is worded with the way the caller allows it', () => {
    const budget = jacobianOverBudget(input([300_000], 0))!;
    expect(describeBudget(budget, FLAG_WORDS)).toBe(
      'it would compute 9.0e10 entries, about 14 s on one thread here, beyond the limit of 5.0e9; --allow-slow runs it',
    );
  });
});

describe('the references and finite differences', () => {
  test('auto computes the reference up to 10^7 elements, and says how to get it beyond', () => {
    expect(autoReferenceOverBudget(input([10, 1_000_000], 1))).toBeUndefined();
    const budget = autoReferenceOverBudget(input([10_000_001], 0))!;
    expect(budget).toMatchObject({ kind: 'auto-reference', entries: 10_000_001, limit: 10_000_000 });
    expect(describeBudget(budget, FLAG_WORDS)).toBe(
      'not computed for 10000001 elements by --reference auto (limit 10000000); --reference double-double computes it, in about 1 s',
    );
  });

  test('a refusal is an InputError carrying its budget, worded for the library', () => {
    const budget = bigNumberOverBudget(input([20_001], 0))!;
    expect(budget).toEqual({ kind: 'bignumber-reference', entries: 20_001, limit: 20_000, seconds: 20_001 * 0.2e-3 });
    const error = new OverBudgetError(budget);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      "the BigNumber reference would take about 4 s for 20001 elements (the limit is 20000): add allowSlow: true to run it anyway, or use reference: 'double-double'",
    );
    expect(bigNumberOverBudget(input([20_000], 0))).toBeUndefined();
  });

  test('finite differences count two forward passes per element', () => {
    expect(finiteDifferencesOverBudget(input([10_000], 0))).toBeUndefined();
    const budget = finiteDifferencesOverBudget(input([20_000], 0))!;
    expect(budget).toEqual({ kind: 'finite-differences', entries: 8e8, limit: 2e8, seconds: 8 });
    expect(describeBudget(budget, FLAG_WORDS)).toBe(
      'finite differences are O(n²): 8.0e8 forward-pass steps here, about 8 s (the limit is 2.0e8): add --allow-slow to run them anyway',
    );
  });
});
