import { describe, expect, test } from 'vitest';
import { compareClose, difference, isClose } from '../../src/math/assert-close.js';
import { f64 } from '../helpers/fixtures.js';

const TOL = { rtol: 1e-7, atol: 1e-7 };

describe('isClose', () => {
  test.each([
    ['within atol + rtol·|b|', 1 + 1.5e-7, 1, true],
    ['just beyond atol + rtol·|b|', 1 + 2.5e-7, 1, false],
    ['atol alone near zero', 9e-8, 0, true],
    ['rtol scales with the expected side only', 1e6 + 0.09, 1e6, true],
    ['NaN matches NaN', NaN, NaN, true],
    ['NaN does not match a number', NaN, 0, false],
    ['a number does not match NaN', 0, NaN, false],
    ['Infinity matches Infinity', Infinity, Infinity, true],
    ['-Infinity does not match Infinity', -Infinity, Infinity, false],
    ['Infinity does not match a large number', Infinity, 1e308, false],
    ['-0 matches 0', -0, 0, true],
  ])('%s', (_, a, b, expected) => {
    expect(isClose(a, b, TOL)).toBe(expected);
  });
});

describe('difference', () => {
  test('is a − b for numbers', () => expect(difference(3, 1)).toBe(2));
  test('is 0 where both are NaN', () => expect(difference(NaN, NaN)).toBe(0));
  test('is 0 for the same infinity', () => expect(difference(-Infinity, -Infinity)).toBe(0));
  test('is NaN where only one side is NaN', () => expect(difference(NaN, 1)).toBeNaN());
});

describe('compareClose', () => {
  test('counts mismatches and finds the greatest differences with their index', () => {
    const result = compareClose(f64([1, 2.5, 3, 0]), f64([1, 2, 3, 1e-9]), TOL);
    expect(result.mismatched).toBe(1);
    expect(result.total).toBe(4);
    expect(result.maxAbs).toEqual({ value: 0.5, index: 1 });
    // |0 − 1e-9| / 1e-9 = 1 at index 3 beats 0.5 / 2 at index 1.
    expect(result.maxRel).toEqual({ value: 1, index: 3 });
    expect(Array.from(result.closeMask)).toEqual([1, 0, 1, 1]);
  });

  test('reports NaN as the greatest difference when one side alone is NaN, as torch does', () => {
    const result = compareClose(f64([1, NaN, 5]), f64([1, 2, 3]), TOL);
    expect(result.mismatched).toBe(2);
    expect(result.maxAbs.value).toBeNaN();
    expect(result.maxAbs.index).toBe(1);
  });

  test('matching NaNs and infinities count as agreement with zero difference', () => {
    const result = compareClose(f64([NaN, Infinity]), f64([NaN, Infinity]), TOL);
    expect(result.mismatched).toBe(0);
    expect(result.maxAbs.value).toBe(0);
  });

  test('a non-zero value against an expected 0 has infinite relative difference', () => {
    const result = compareClose(f64([1e-3]), f64([0]), TOL);
    expect(result.maxRel.value).toBe(Infinity);
    expect(result.mismatched).toBe(1);
  });
});
