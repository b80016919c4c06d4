import { describe, expect, onTestFinished, test, vi } from 'vitest';
import {
  autoBigNumberShare,
  autoReferenceOverBudget,
  bigNumberShareOverBudget,
  bigNumberOverBudget,
  finiteDifferencesOverBudget,
  JACOBIAN_ENTRY_LIMIT,
  jacobianEntries,
  jacobianOverBudget,
  OverBudgetError,
} from '../../src/core/budget.js';
import { InputError } from '../../src/input-error.js';
import { describeBudget, FLAG_WORDS, LIBRARY_WORDS } from '../../src/core/describe-budget.js';
import { runVerification } from '../../src/core/run.js';
import { loadBigNumberReference } from '../../src/reference/bignumber-reference.js';
import { doubleDoubleReferenceSlice } from '../../src/ops/softmax/double-double-reference.js';
import { referenceBySlices, type LeftUndecided } from '../../src/reference/reference-by-slices.js';
import { type VerifyInput } from '../../src/core/report.js';

function input(shape: number[], axis: number): VerifyInput {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(size);
  return { op: 'softmax', label: 't', x: { shape, data }, g: { shape, data }, dim: axis, axis, dtype: 'float64' };
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

describe("auto's BigNumber share", () => {
  // A slice double-double cannot decide (test/reference/compute-reference.test.ts): two halves with g
  // of nearly opposite sign, so that g − ⟨s, g⟩ loses 15 digits for the small probabilities.
  const hard = [0, 0, 37.43, 0, 0, 0, 37.43, 0, 0, 0, 0];
  const hardG = [0, 0, 999.9999999999983, 0, 0, 0, -999.9999999999965, 0, 0, 0, 0];
  const tensorRows = (count: number): VerifyInput => {
    const shape = [count, 11];
    return {
      op: 'softmax', label: 't',
      x: { shape, data: Float64Array.from(Array.from({ length: count }, () => hard).flat()) },
      g: { shape, data: Float64Array.from(Array.from({ length: count }, () => hardG).flat()) },
      dim: 1,
      axis: 1,
      dtype: 'float64',
    };
  };

  test('is about as long as a small run: 0.4 s and 2 µs an element, at 64 digits', () => {
    expect(autoBigNumberShare(tensorRows(1))).toEqual({ elements: Math.floor(((0.4 + 22e-6) * 1000) / 0.2), seconds: 0.4 + 22e-6 });
    expect(autoBigNumberShare({ ...tensorRows(1), op: 'log_softmax' }).elements).toBe(Math.floor(((0.4 + 22e-6) * 1000) / 0.6));
  });

  test('computes the undecided slices within it, and leaves the reference out beyond it, saying why', async () => {
    // The clock stands still: on a busy machine BigNumber's 1,100 elements (and mathjs's first
    // load) could outrun the share's seconds, which the next test holds it to.
    vi.useFakeTimers({ toFake: ['Date'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const within = await runVerification(tensorRows(100));
    expect(within.reference?.slicesByBigNumber).toBe(100);
    expect(within.referenceSkipped).toBeUndefined();
    const beyond = await runVerification(tensorRows(200));
    expect(beyond.reference).toBeUndefined();
    expect(beyond.referenceSkipped).toMatchObject({ kind: 'bignumber-share', entries: 2200, slices: 200, ranOutOfTime: false, reference: 'auto' });
    expect(describeBudget(beyond.referenceSkipped!, FLAG_WORDS)).toBe(
      "left out: double-double could not decide 200 slices (2200 elements), and BigNumber would take about 0.4 s on them, more than --reference auto gives it (2022 elements); --reference double-double with --allow-slow computes them",
    );
    // Named, the engine computes them.
    expect((await runVerification(tensorRows(200), { reference: 'double-double' })).reference?.slicesByBigNumber).toBe(200);
  });

  test('stops between slices once its time is up, and says so', async () => {
    const input = tensorRows(3);
    const left = await referenceBySlices(input.x.data, input.g.data, { length: 11, stride: 1, count: 3 }, 'double-double', doubleDoubleReferenceSlice, loadBigNumberReference, {
      elementLimit: Infinity,
      seconds: -1,
    });
    expect(left).toEqual({ slices: 3, elements: 33, ranOutOfTime: true });
    const budget = bigNumberShareOverBudget(input, left as LeftUndecided, 2000, 'auto');
    expect(describeBudget(budget, LIBRARY_WORDS)).toBe(
      "left out: double-double could not decide 3 slices (33 elements), and BigNumber ran past the 0.8 s reference: 'auto' gives it; reference: 'double-double' with allowSlow: true computes them",
    );
  });
});
