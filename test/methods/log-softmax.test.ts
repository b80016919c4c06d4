import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { accurateLogSoftmaxSlice } from '../../src/ops/log_softmax/accurate-log-softmax.js';
import {
  logSoftmaxClosedFormBackwardSlice,
  logSoftmaxClosedFormForwardSlice,
  logSoftmaxJacobianBackwardSlice,
  logSoftmaxJacobianColumnsScalar,
  logSoftmaxLseForwardSlice,
} from '../../src/ops/log_softmax/log-softmax.js';
import { arithmeticFor, type Arithmetic } from '../../src/numeric/arithmetic.js';
import { f64 } from '../helpers/fixtures.js';
import { PROPERTY_OPTIONS, propertyTimeout } from '../helpers/properties.js';

const FLOAT64 = arithmeticFor('float64');
const BFLOAT16 = arithmeticFor('bfloat16');

function run(slice: (x: Float64Array, out: Float64Array, a?: Arithmetic) => void, x: number[], a: Arithmetic = FLOAT64): number[] {
  const out = new Float64Array(x.length);
  slice(f64(x), out, a);
  return Array.from(out);
}

function backward(slice: (y: Float64Array, g: Float64Array, out: Float64Array, a?: Arithmetic) => void, y: number[], g: number[], a: Arithmetic = FLOAT64): number[] {
  const out = new Float64Array(y.length);
  slice(f64(y), f64(g), out, a);
  return Array.from(out);
}

describe('log_softmax forward', () => {
  test('gives −log n for equal logits and x − max − log Σ exp(x − max) otherwise, in both designs', () => {
    expect(run(logSoftmaxClosedFormForwardSlice, [3, 3, 3, 3])).toEqual([-Math.log(4), -Math.log(4), -Math.log(4), -Math.log(4)]);
    const lse = Math.log(Math.exp(-2) + Math.exp(-1) + 1);
    const closed = run(logSoftmaxClosedFormForwardSlice, [1, 2, 3]);
    const explicit = run(logSoftmaxLseForwardSlice, [1, 2, 3]);
    [-2 - lse, -1 - lse, -lse].forEach((want, i) => {
      expect(closed[i]).toBeCloseTo(want, 15);
      expect(explicit[i]).toBeCloseTo(want, 15);
    });
  });

  test('keeps large logits finite: the max is subtracted before exp', () => {
    const y = run(logSoftmaxClosedFormForwardSlice, [1000, 999]);
    expect(y[0]).toBeCloseTo(-Math.log1p(Math.exp(-1)), 14);
    expect(y[1]).toBeCloseTo(-1 - Math.log1p(Math.exp(-1)), 14);
  });

  test('as PyTorch: a −Infinity logit gives −Infinity; an all-masked, NaN or +Infinity slice NaN throughout', () => {
    for (const slice of [logSoftmaxClosedFormForwardSlice, logSoftmaxLseForwardSlice]) {
      expect(run(slice, [0, -Infinity, 0])).toEqual([-Math.log(2), -Infinity, -Math.log(2)]);
      expect(run(slice, [-Infinity, -Infinity])).toEqual([NaN, NaN]);
      expect(run(slice, [1, NaN])).toEqual([NaN, NaN]);
      expect(run(slice, [1, Infinity])).toEqual([NaN, NaN]);
    }
  });
});

describe('log_softmax backward', () => {
  test('dx = g − exp(y)·Σg, from every Jacobian entry and in closed form', () => {
    const y = [-Math.log(2), -Math.log(2)];
    expect(backward(logSoftmaxClosedFormBackwardSlice, y, [1, 0])).toEqual([0.5, -0.5]);
    expect(backward(logSoftmaxJacobianBackwardSlice, y, [1, 0])).toEqual([0.5, -0.5]);
    // A constant g: Σg = n·g and Σ s = 1, so dx = 0.
    expect(backward(logSoftmaxJacobianBackwardSlice, [-Math.log(4), -Math.log(4), -Math.log(4), -Math.log(4)], [2, 2, 2, 2])).toEqual([0, 0, 0, 0]);
  });

  test('a masked element (y = −Infinity) passes g through: its s is 0', () => {
    const y = [-Math.log(2), -Infinity, -Math.log(2)];
    expect(backward(logSoftmaxClosedFormBackwardSlice, y, [1, 5, 3])).toEqual([-3.5, 5, -1.5]);
    expect(backward(logSoftmaxJacobianBackwardSlice, y, [1, 5, 3])).toEqual([-3.5, 5, -1.5]);
  });

  test('in bfloat16 the results are stored in bfloat16', () => {
    const dx = backward(logSoftmaxClosedFormBackwardSlice, [-0.1, -2.5, -3], [1.3, -0.7, 2.1], BFLOAT16);
    for (const v of dx) expect(BFLOAT16.store(v)).toBe(v);
  });
});

/** Slices of 64 to 200 elements (the kernel's from 64), y as a forward gives it, −Infinity and NaN among them. */
const kernelSlice = fc.integer({ min: 64, max: 200 }).chain((n) =>
  fc.tuple(
    fc.array(fc.oneof({ weight: 20, arbitrary: fc.double({ min: -30, max: 0, noNaN: true }) }, fc.constant(-Infinity)), { minLength: n, maxLength: n }),
    fc.array(fc.oneof({ weight: 40, arbitrary: fc.double({ min: -1e3, max: 1e3, noNaN: true }) }, fc.constant(NaN), fc.constant(0)), { minLength: n, maxLength: n }),
  ),
);

describe('the Jacobian columns kernel (WebAssembly)', () => {
  test.each([
    ['float64', FLOAT64],
    ['bfloat16 (float32 operations and sums)', BFLOAT16],
    ['float32', arithmeticFor('float32')],
  ])('gives the scalar loop’s bits in %s', (_, a) => {
    fc.assert(
      fc.property(kernelSlice, ([yValues, gValues]) => {
        const y = Float64Array.from(yValues, (v) => a.store(v));
        const g = Float64Array.from(gValues, (v) => a.store(v));
        const viaKernel = new Float64Array(y.length);
        logSoftmaxJacobianBackwardSlice(y, g, viaKernel, a);
        const s = y.map((v) => a.round(Math.exp(v)));
        const scalar = new Float64Array(y.length);
        logSoftmaxJacobianColumnsScalar(s, g, scalar, a);
        return viaKernel.every((v, j) => Object.is(v, scalar[j]) || (v !== v && scalar[j] !== scalar[j]));
      }),
      { ...PROPERTY_OPTIONS, numRuns: Math.ceil((PROPERTY_OPTIONS.numRuns * 2) / 3) },
    );
  }, propertyTimeout(5));
});

describe('the accurate log_softmax (the judge of expected values)', () => {
  test('agrees with the plain formula where it is well conditioned, and keeps what float64 formulas lose', () => {
    const y = new Float64Array(3);
    const dx = new Float64Array(3);
    accurateLogSoftmaxSlice(f64([1, 2, 3]), f64([1, 0, 0]), y, dx);
    const lse = 3 + Math.log1p(Math.exp(-1) + Math.exp(-2));
    expect(Array.from(y)).toEqual([1 - lse, 2 - lse, 3 - lse].map((v) => expect.closeTo(v, 15)));
    expect(dx[0]).toBeCloseTo(1 - Math.exp(1 - lse), 15);
    // One dominant logit: y at the max is −log(1 + e^-40 + e^-40) ≈ −8.5e-18, which x − m − log Σ
    // computed in float64 rounds to −0 (log of 1 + 8.5e-18 is log 1).
    accurateLogSoftmaxSlice(f64([40, 0, 0]), f64([1, 0, 0]), y, dx);
    expect(y[0]).toBeCloseTo(-2 * Math.exp(-40), 30);
    expect(y[0]).not.toBe(0);
  });

  test('masked, all-masked and NaN slices as PyTorch', () => {
    const y = new Float64Array(3);
    const dx = new Float64Array(3);
    accurateLogSoftmaxSlice(f64([0, -Infinity, 0]), f64([1, 5, 3]), y, dx);
    expect(Array.from(y)).toEqual([-Math.log(2), -Infinity, -Math.log(2)]);
    expect(Array.from(dx)).toEqual([-3.5, 5, -1.5]);
    accurateLogSoftmaxSlice(f64([-Infinity, -Infinity, -Infinity]), f64([1, 5, 3]), y, dx);
    expect(Array.from(y).every(Number.isNaN) && Array.from(dx).every(Number.isNaN)).toBe(true);
  });
});
