import { describe, expect, test } from 'vitest';
import { DEFAULT_TOLERANCE } from '../../src/dtype.js';
import { roundingAllowances } from '../../src/ops/softmax/softmax-allowance.js';
import { checkInvariants } from '../../src/comparisons/invariants.js';
import { runClosedFormMethod } from '../../src/ops/softmax/pipelines.js';
import { sliceLayout } from '../../src/numeric/slices.js';
import { softmaxNormalisedSlice } from '../../src/ops/softmax/softmax-normalised.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { judge } from '../../src/core/judge.js';
import { f64 } from '../helpers/fixtures.js';
import { type VerifyInput } from '../../src/core/report.js';
import { type SliceBounds } from '../../src/comparisons/allowance.js';

const EPS = 2 ** -52;
/** Bounds of 4 ε for Σ s and 4 ε·W for Σ dx in every slice: a fixed limit, for unit tests. */
const fixed = (slices: number, gradScale = 1): SliceBounds => ({
  softmaxSum: new Float64Array(slices).fill(4 * EPS),
  gradSum: new Float64Array(slices).fill(4 * EPS * gradScale),
});

describe('checkInvariants', () => {
  test('finds nothing wrong with an exact softmax and gradient', () => {
    // s = [1/4, 3/4], g = [1, 0]: ⟨s, g⟩ = 1/4, dx = [3/16, -3/16], all exact; W = 1/4 + 1/4.
    const s = f64([0.25, 0.75]);
    const result = checkInvariants({ forward: s, grad: f64([0.1875, -0.1875]) }, s, f64([1, 0]), sliceLayout([2], 0), fixed(1, 0.5), EPS);
    expect(result).toEqual({
      softmaxSum: { ulps: 0, bound: 4, slice: 0 },
      gradSum: { ulps: 0, bound: 4, slice: 0 },
      gradSumOfMagnitudes: { ulps: 0, slice: 0 },
      flaggedSlices: 0,
    });
  });

  test('measures |Σ s − 1| in units of 2^-52 and flags a softmax beyond its bound', () => {
    const s = f64([0.25, 0.75]);
    const at = (softmax: Float64Array) => checkInvariants({ forward: softmax }, s, f64([0, 0]), sliceLayout([2], 0), fixed(1), EPS);
    expect(at(f64([0.25, 0.75 + 2 ** -50]))).toEqual({ softmaxSum: { ulps: 4, bound: 4, slice: 0 }, flaggedSlices: 0 });
    const worse = at(f64([0.25, 0.75 + 2 ** -48]));
    expect(worse.softmaxSum).toEqual({ ulps: 16, bound: 4, slice: 0 });
    expect(worse.flaggedSlices).toBe(1);
  });

  test('flags a gradient with a wrong sign, and names the worst slice of a batch', () => {
    const s = f64([0.25, 0.75, 0.25, 0.75]);
    const g = f64([1, 0, 1, 0]);
    const grad = f64([0.1875, -0.1875, 0.1875, 0.1875]);
    const result = checkInvariants({ forward: s, grad }, s, g, sliceLayout([2, 2], 1), fixed(2, 0.5), EPS);
    // |Σ dx| = 3/8 against W = Σ s (|g| + 1/4) = 1/2: three quarters of it.
    expect(result.gradSum).toEqual({ ulps: 0.75 * 2 ** 52, bound: 4, slice: 1 });
    // Against Σ |dx| = 3/8 the same sum is the whole of it.
    expect(result.gradSumOfMagnitudes).toEqual({ ulps: 2 ** 52, slice: 1 });
    expect(result.flaggedSlices).toBe(1);
  });

  test('a NaN sum in a slice that has a softmax is flagged: expected values with a NaN there', () => {
    const s = f64([0.25, 0.75]);
    const result = checkInvariants({ forward: f64([0.25, NaN]) }, s, f64([1, 0]), sliceLayout([2], 0), fixed(1), EPS);
    expect(result.flaggedSlices).toBe(1);
    expect(result.softmaxSum!.ulps).toBeNaN();
  });

  test('shows |Σ dx| / Σ|dx| without flagging it: for a constant g, a correct gradient is all rounding', () => {
    // g constant: the exact gradient is 0, and float64 leaves rounding noise of either sign.
    const x = [0.3, 1.7, -0.4, 2.2, 0.9];
    const e = x.map((v) => Math.exp(v - 2.2));
    const s = f64(e.map((v) => v / e.reduce((a, b) => a + b, 0)));
    const c = 3;
    const g = f64(x.map(() => c));
    const dot = s.reduce((total, p) => total + p * c, 0);
    const grad = f64(Array.from(s, (p) => p * (c - dot)));
    const result = checkInvariants({ forward: s, grad }, s, g, sliceLayout([5], 0), fixed(1, 2 * c), EPS);
    const total = grad.reduce((a, b) => a + b, 0);
    expect(Math.abs(total)).toBeGreaterThan(0);
    expect(result.gradSumOfMagnitudes!.ulps).toBeGreaterThan(1e10);
    expect(result.gradSum!.ulps).toBeLessThanOrEqual(4);
    expect(result.flaggedSlices).toBe(0);
  });

  test('holds a gradient to 0 in plain epsilons where g is 0 throughout, where there is no scale', () => {
    const s = f64([0.25, 0.75]);
    const bounds = { softmaxSum: f64([4 * EPS]), gradSum: f64([1e-300]) };
    const zero = checkInvariants({ grad: f64([0, 0]) }, s, f64([0, 0]), sliceLayout([2], 0), bounds, EPS);
    expect(zero).toMatchObject({ gradSum: { ulps: 0, slice: 0 }, flaggedSlices: 0 });
    const nonzero = checkInvariants({ grad: f64([1e-20, 0]) }, s, f64([0, 0]), sliceLayout([2], 0), bounds, EPS);
    expect(nonzero.gradSum!.ulps).toBe(1e-20 / EPS);
    expect(nonzero.flaggedSlices).toBe(1);
  });

  test('skips slices without a softmax (NaN bounds)', () => {
    const nan = { softmaxSum: f64([NaN]), gradSum: f64([NaN]) };
    const result = checkInvariants({ forward: f64([NaN, NaN]), grad: f64([NaN, NaN]) }, f64([NaN, NaN]), f64([1, 2]), sliceLayout([2], 0), nan, EPS);
    expect(result).toEqual({
      softmaxSum: { ulps: 0, bound: 0, slice: -1 },
      gradSum: { ulps: 0, bound: 0, slice: -1 },
      gradSumOfMagnitudes: { ulps: 0, slice: -1 },
      flaggedSlices: 0,
    });
  });
});

/** Normal deviates from a fixed sequence (Box–Muller on a hash), so the test data is the same every run. */
function normals(n: number, seed: number): Float64Array {
  const uniform = (k: number) => {
    const v = Math.sin((k + seed * 7919) * 12.9898 + 78.233) * 43758.5453;
    return v - Math.floor(v) || 0.5;
  };
  return Float64Array.from({ length: n }, (_, k) => Math.sqrt(-2 * Math.log(uniform(2 * k))) * Math.cos(2 * Math.PI * uniform(2 * k + 1)));
}

function input(shape: number[], xScale: number, seed: number): VerifyInput {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    op: 'softmax', label: 'random',
    x: { shape, data: normals(n, seed).map((v) => v * xScale) },
    g: { shape, data: normals(n, seed + 1) },
    dim: -1,
    axis: shape.length - 1,
    dtype: 'float64',
  };
}

describe('the invariants raise no flag on correct results', () => {
  test('a random float64 batch of shape [1000, 1000], explicit Jacobian included (a fixed 4 ε flagged 290 of its slices)', () => {
    const report = judge(input([1000, 1000], 3, 1));
    for (const method of report.methods) expect(report.invariants[method]!.flaggedSlices, method).toBe(0);
    // Correct results beyond 4 units: where the fixed limit raised its false alarms.
    const worst = report.methods.flatMap((method) => [report.invariants[method]!.softmaxSum!.ulps, report.invariants[method]!.gradSum!.ulps]);
    expect(Math.max(...worst)).toBeGreaterThan(4);
  });

  test('a GPT-2 row of 50,257 flat logits, normalised by a plain sum whose |Σ s − 1| a fixed 4 ε flagged', () => {
    const n = 50_257;
    const x = normals(n, 7);
    const g = normals(n, 8);
    const softmax = new Float64Array(n);
    softmaxNormalisedSlice(x, softmax);
    const layout = sliceLayout([n], 0);
    const closed = runClosedFormMethod(x, g, layout);
    const bounds = roundingAllowances({ x, g, softmax: closed.forward, grad: closed.grad, layout }, arithmeticFor('float64'), DEFAULT_TOLERANCE.float64).slices;
    const check = checkInvariants({ forward: softmax }, closed.forward, g, layout, bounds, EPS);
    expect(check.softmaxSum!.ulps).toBeGreaterThan(4);
    // The bound grows with n: about 75,000 units here, not 4.
    expect(check.softmaxSum!.bound).toBeGreaterThan(75_000);
    expect(check.flaggedSlices).toBe(0);
  });
});
