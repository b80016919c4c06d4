import { describe, expect, test } from 'vitest';
import { DEFAULT_TOLERANCE } from '../../src/dtype.js';
import { roundingAllowances } from '../../src/ops/softmax/softmax-allowance.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { compareClose, difference, FAILURES_KEPT, isClose } from '../../src/comparisons/assert-close.js';
import { f64 } from '../helpers/fixtures.js';
import { allowanceParts, type ElementAllowance } from '../../src/comparisons/allowance.js';

const TOL = { rtol: 1e-7, atol: 1e-7 };
/** The plain rule atol + rtol·|b|: no arithmetic, no cancellation term. */
const plain = (n: number): ElementAllowance => ({
  atol: TOL.atol,
  terms: { layout: { length: n, stride: 1, count: 1 } },
  rule: {
    rounding: (_allowance, _i, b) => TOL.rtol * Math.abs(b),
    parts: (_allowance, _i, b) => ({ relative: TOL.rtol * Math.abs(b), cancellation: 0, arithmetic: 0 }),
  },
});

describe('isClose', () => {
  test.each([
    ['within the allowance', 1 + 1.5e-7, 1, true],
    ['just beyond the allowance', 1 + 2.5e-7, 1, false],
    ['NaN matches NaN', NaN, NaN, true],
    ['NaN does not match a number', NaN, 0, false],
    ['a number does not match NaN', 0, NaN, false],
    ['Infinity matches Infinity', Infinity, Infinity, true],
    ['-Infinity does not match Infinity', -Infinity, Infinity, false],
    ['Infinity does not match a large number', Infinity, 1e308, false],
    ['-0 matches 0', -0, 0, true],
  ])('%s', (_, a, b, expected) => {
    expect(isClose(a, b, 2e-7)).toBe(expected);
  });

  test('an infinite allowance still matches infinities only exactly', () => {
    expect(isClose(Infinity, 1, Infinity)).toBe(false);
    expect(isClose(5, 1, Infinity)).toBe(true);
  });
});

describe('difference', () => {
  test('is a − b for numbers', () => expect(difference(3, 1)).toBe(2));
  test('is 0 where both are NaN', () => expect(difference(NaN, NaN)).toBe(0));
  test('is 0 for the same infinity', () => expect(difference(-Infinity, -Infinity)).toBe(0));
  test('is NaN where only one side is NaN', () => expect(difference(NaN, 1)).toBeNaN());
});

describe('compareClose', () => {
  test.each([
    ['within atol + rtol·|b|', 1 + 1.5e-7, 1, 1],
    ['just beyond atol + rtol·|b|', 1 + 2.5e-7, 1, 0],
    ['atol alone near zero', 9e-8, 0, 1],
    ['rtol scales with the expected side only', 1e6 + 0.09, 1e6, 1],
  ])('with the plain allowance: %s', (_, a, b, close) => {
    expect(compareClose(f64([a]), f64([b]), plain(1)).closeMask[0]).toBe(close);
  });

  test('an element passes within its allowance, terms and all, and fails just beyond it', () => {
    // A gradient allowance with every term at work: a bfloat16 slice with cancellation.
    const a = roundingAllowances(
      { x: f64([2, 0.5, -1]), g: f64([1, 0.75, -0.5]), softmax: f64([0.7, 0.2, 0.1]), grad: f64([0.1, -0.02, -0.08]), layout: { length: 3, stride: 1, count: 1 } },
      arithmeticFor('bfloat16'),
      DEFAULT_TOLERANCE.bfloat16,
    ).grad;
    const b = 0.1;
    const parts = allowanceParts(a, 0, b);
    expect(parts.cancellation).toBeGreaterThan(0);
    expect(parts.arithmetic).toBeGreaterThan(0);
    expect(compareClose(f64([b + 0.99 * parts.total]), f64([b, 0, 0]).subarray(0, 1), a).mismatched).toBe(0);
    const beyond = compareClose(f64([b + 1.01 * parts.total, 0, 0]), f64([b, 0, 0]), a);
    expect(beyond.mismatched).toBe(1);
    expect(beyond.worst.value).toBeCloseTo(1.01, 6);
  });

  test('counts mismatches and finds the greatest differences with their index', () => {
    const result = compareClose(f64([1, 2.5, 3, 0]), f64([1, 2, 3, 1e-9]), plain(4));
    expect(result.mismatched).toBe(1);
    expect(result.total).toBe(4);
    expect(result.maxAbs).toEqual({ value: 0.5, index: 1 });
    // |0 − 1e-9| / 1e-9 = 1 at index 3 beats 0.5 / 2 at index 1.
    expect(result.maxRel).toEqual({ value: 1, index: 3 });
    expect(Array.from(result.closeMask)).toEqual([1, 0, 1, 1]);
  });

  test('reports NaN as the greatest difference when one side alone is NaN, as torch does', () => {
    const result = compareClose(f64([1, NaN, 5]), f64([1, 2, 3]), plain(3));
    expect(result.mismatched).toBe(2);
    expect(result.maxAbs.value).toBeNaN();
    expect(result.maxAbs.index).toBe(1);
    // Against the allowance, the NaN is infinitely far, and comes first among the failures.
    expect(result.worst).toEqual({ value: Infinity, index: 1 });
    expect(result.failures).toEqual([1, 2]);
  });

  test('matching NaNs and infinities count as agreement with zero difference', () => {
    const result = compareClose(f64([NaN, Infinity]), f64([NaN, Infinity]), plain(2));
    expect(result.mismatched).toBe(0);
    expect(result.maxAbs.value).toBe(0);
  });

  test('a non-zero value against an expected 0 has infinite relative difference', () => {
    const result = compareClose(f64([1e-3]), f64([0]), plain(1));
    expect(result.maxRel.value).toBe(Infinity);
    expect(result.mismatched).toBe(1);
  });

  test(`keeps the ${FAILURES_KEPT} worst failing elements, the worst first, however many fail`, () => {
    const n = 3 * FAILURES_KEPT;
    // Element k is off by (k mod 1,000 + 2) allowances, so each ratio occurs three times.
    const expected = new Float64Array(n).fill(1);
    const actual = expected.map((_, k) => 1 + ((k % FAILURES_KEPT) + 2) * 2e-7);
    const result = compareClose(actual, expected, plain(n));
    expect(result.mismatched).toBe(n);
    expect(result.failures).toHaveLength(FAILURES_KEPT);
    // Ties keep the earliest index.
    expect(result.failures.slice(0, 4)).toEqual([FAILURES_KEPT - 1, 2 * FAILURES_KEPT - 1, 3 * FAILURES_KEPT - 1, FAILURES_KEPT - 2]);
    expect(result.worst.index).toBe(FAILURES_KEPT - 1);
  });
});
