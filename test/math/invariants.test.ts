import { describe, expect, test } from 'vitest';
import { checkInvariants, INVARIANT_ULP_LIMIT } from '../../src/math/invariants.js';
import { sliceLayout } from '../../src/math/slices.js';
import { f64 } from '../helpers/fixtures.js';

describe('checkInvariants', () => {
  test('finds nothing wrong with an exact softmax and gradient', () => {
    // s = [1/4, 3/4], g = [1, 0]: ⟨s, g⟩ = 1/4, dx = [3/16, -3/16], all exact.
    const result = checkInvariants(f64([0.25, 0.75]), f64([0.1875, -0.1875]), f64([1, 0]), sliceLayout([2], 0));
    expect(result).toEqual({ softmaxSum: { ulps: 0, slice: 0 }, gradSum: { ulps: 0, slice: 0 }, gradSumOfMagnitudes: { ulps: 0, slice: 0 }, flaggedSlices: 0 });
  });

  test('measures |Σ s − 1| in units of 2^-52 and flags a softmax that does not sum to 1', () => {
    const result = checkInvariants(f64([0.25, 0.75 + 2 ** -50]), f64([0, 0]), f64([0, 0]), sliceLayout([2], 0));
    expect(result.softmaxSum).toEqual({ ulps: 4, slice: 0 });
    const worse = checkInvariants(f64([0.25, 0.75 + 2 ** -48]), f64([0, 0]), f64([0, 0]), sliceLayout([2], 0));
    expect(worse.softmaxSum.ulps).toBeGreaterThan(INVARIANT_ULP_LIMIT);
    expect(worse.flaggedSlices).toBe(1);
  });

  test('flags a gradient with a wrong sign, and names the worst slice of a batch', () => {
    const softmax = f64([0.25, 0.75, 0.25, 0.75]);
    const g = f64([1, 0, 1, 0]);
    const grad = f64([0.1875, -0.1875, 0.1875, 0.1875]);
    const result = checkInvariants(softmax, grad, g, sliceLayout([2, 2], 1));
    expect(result.gradSum.slice).toBe(1);
    // |Σ dx| = 3/8 against Σ s (|g| + 1/4) = 1/2: three quarters of the scale.
    expect(result.gradSum.ulps).toBe(0.75 * 2 ** 52);
    // Against Σ |dx| = 3/8 the same sum is the whole of it.
    expect(result.gradSumOfMagnitudes).toEqual({ ulps: 2 ** 52, slice: 1 });
    expect(result.flaggedSlices).toBe(1);
  });

  test('shows |Σ dx| / Σ|dx| without flagging it: for a constant g, a correct gradient is all rounding', () => {
    // g constant: the exact gradient is 0, and float64 leaves rounding noise of either sign.
    const x = [0.3, 1.7, -0.4, 2.2, 0.9];
    const e = x.map((v) => Math.exp(v - 2.2));
    const s = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    const c = 3;
    const dot = s.reduce((total, p) => total + p * c, 0);
    const grad = s.map((p) => p * (c - dot));
    const result = checkInvariants(f64(s), f64(grad), f64(s.map(() => c)), sliceLayout([5], 0));
    const total = grad.reduce((a, b) => a + b, 0);
    expect(Math.abs(total)).toBeGreaterThan(0);
    expect(result.gradSumOfMagnitudes.ulps).toBeGreaterThan(INVARIANT_ULP_LIMIT);
    expect(result.gradSum.ulps).toBeLessThanOrEqual(INVARIANT_ULP_LIMIT);
    expect(result.flaggedSlices).toBe(0);
  });

  test('skips slices without a softmax', () => {
    const result = checkInvariants(f64([NaN, NaN]), f64([NaN, NaN]), f64([1, 2]), sliceLayout([2], 0));
    expect(result).toEqual({ softmaxSum: { ulps: 0, slice: -1 }, gradSum: { ulps: 0, slice: -1 }, gradSumOfMagnitudes: { ulps: 0, slice: -1 }, flaggedSlices: 0 });
  });
});
