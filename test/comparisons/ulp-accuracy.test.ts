import { describe, expect, test } from 'vitest';
import { ulpAccuracy } from '../../src/comparisons/ulp-accuracy.js';
import { f64 } from '../helpers/fixtures.js';

describe('ulpAccuracy', () => {
  test('counts the elements that are not the correctly rounded value and finds the worst', () => {
    const reference = f64([1, 0.5, 0.25]);
    const values = f64([1, 0.5 + 2 ** -53 * 3, 0.25 - 2 ** -54]);
    expect(ulpAccuracy(values, reference, 'float64')).toEqual({ total: 3, notCorrectlyRounded: 2, maxUlps: { value: 3, index: 1 } });
  });

  test('measures in ulps of the dtype', () => {
    expect(ulpAccuracy(f64([1 + 2 ** -10]), f64([1]), 'float16').maxUlps.value).toBe(1);
    expect(ulpAccuracy(f64([1 + 2 ** -10]), f64([1]), 'float64').maxUlps.value).toBe(2 ** 42);
  });

  test('leaves out elements without a reference, and puts NaN against a number infinitely far', () => {
    const result = ulpAccuracy(f64([NaN, 5, NaN]), f64([1, NaN, NaN]), 'float64');
    expect(result).toEqual({ total: 1, notCorrectlyRounded: 1, maxUlps: { value: Infinity, index: 0 } });
  });

  test('is all exact when every value is the reference', () => {
    expect(ulpAccuracy(f64([0.1, -0]), f64([0.1, 0]), 'float64')).toEqual({ total: 2, notCorrectlyRounded: 0, maxUlps: { value: 0, index: 0 } });
  });
});
