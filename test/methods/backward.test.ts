import { describe, expect, test } from 'vitest';
import { closedFormBackwardSlice } from '../../src/ops/softmax/closed-form-backward.js';
import { jacobianBackwardSlice, jacobianEntry, jacobianMatrix } from '../../src/ops/softmax/jacobian-backward.js';
import { softmaxNormalisedSlice } from '../../src/ops/softmax/softmax-normalised.js';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { f64 } from '../helpers/fixtures.js';

type Backward = (s: Float64Array, g: Float64Array, out: Float64Array) => void;

const BACKWARDS: [string, Backward][] = [
  ['explicit Jacobian (materialised)', (s, g, out) => jacobianBackwardSlice(s, g, out)],
  ['explicit Jacobian (streamed rows)', (s, g, out) => jacobianBackwardSlice(s, g, out, 0)],
  ['closed form', closedFormBackwardSlice],
];

/** A softmax slice of `n` spread-out logits and an upstream gradient to go with it. */
function sampleSlice(n: number): { s: Float64Array; g: Float64Array } {
  const x = f64(Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 8));
  const s = new Float64Array(n);
  softmaxNormalisedSlice(x, s);
  return { s, g: f64(Array.from({ length: n }, (_, i) => Math.cos(i * 78.233))) };
}

function run(backward: Backward, s: readonly number[], g: readonly number[]): number[] {
  const out = new Float64Array(s.length);
  backward(f64(s), f64(g), out);
  return Array.from(out);
}

describe.each(BACKWARDS)('gradient by %s', (_, backward) => {
  test('two elements: dx = s0·s1·(g0 − g1)·[1, −1], exact for s = [1/4, 3/4]', () => {
    // s0·s1 = 3/16 and every intermediate is a dyadic rational: no rounding anywhere.
    expect(run(backward, [0.25, 0.75], [1, 0])).toEqual([0.1875, -0.1875]);
  });

  test('a constant upstream gradient gives zero input gradient', () => {
    const dx = run(backward, [0.125, 0.375, 0.5], [7, 7, 7]);
    dx.forEach((v) => expect(Math.abs(v)).toBeLessThanOrEqual(8 * Number.EPSILON));
  });

  test('returns 0 for a masked element (s = 0)', () => {
    const dx = run(backward, [0.5, 0, 0.5], [1, 5, 3]);
    expect(dx[1]).toBe(0);
    expect(dx[0]).toBe(-0.5);
    expect(dx[2]).toBe(0.5);
  });

  test('a single element has gradient 0', () => {
    expect(run(backward, [1], [3.5])).toEqual([0]);
  });

  test('NaN in g reaches the gradient', () => {
    expect(run(backward, [0.5, 0.5], [NaN, 1]).every(Number.isNaN)).toBe(true);
  });

  test('the gradient sums to zero up to rounding', () => {
    const { s, g } = sampleSlice(40);
    const dx = run(backward, Array.from(s), Array.from(g));
    const sum = dx.reduce((a, b) => a + b, 0);
    const scale = dx.reduce((a, b) => a + Math.abs(b), 0);
    expect(Math.abs(sum)).toBeLessThanOrEqual(40 * Number.EPSILON * scale);
  });
});

describe('explicit Jacobian', () => {
  test('every entry is s_i (δ_ij − s_j)', () => {
    const s = f64([0.25, 0.75]);
    expect(Array.from(jacobianMatrix(s))).toEqual([0.25 * 0.75, -0.25 * 0.75, -0.75 * 0.25, 0.75 * 0.25]);
  });

  test('rows of the Jacobian sum to zero (softmax is shift-invariant)', () => {
    const s = f64([0.125, 0.375, 0.5]);
    const jac = jacobianMatrix(s);
    for (let i = 0; i < 3; i++) {
      expect(jac[i * 3] + jac[i * 3 + 1] + jac[i * 3 + 2]).toBeCloseTo(0, 16);
    }
  });

  test('streamed rows give bit-identical results to the materialised matrix', () => {
    const n = 300;
    const { s, g } = sampleSlice(n);
    const materialised = new Float64Array(n);
    const streamed = new Float64Array(n);
    jacobianBackwardSlice(s, g, materialised, n);
    jacobianBackwardSlice(s, g, streamed, n - 1);
    expect(streamed).toEqual(materialised);
  });

  test.each([
    ['float32', 'float64'],
    ['float32', 'float32'],
    ['float16', 'float32'],
    ['bfloat16', 'float32'],
    ['bfloat16', 'float64'],
  ] as const)('streamed rows in %s, sums in %s, are bit-identical to the materialised matrix, which rounds through the arithmetic', (dtype, accumulate) => {
    const n = 300;
    const a = arithmeticFor(dtype, { accumulate });
    const { s: s64, g: g64 } = sampleSlice(n);
    const [s, g] = [s64.map(a.store), g64.map(a.store)];
    const materialised = new Float64Array(n);
    const streamed = new Float64Array(n);
    jacobianBackwardSlice(s, g, materialised, n, a);
    jacobianBackwardSlice(s, g, streamed, n - 1, a);
    expect(streamed).toEqual(materialised);
    expect(streamed.every((v) => v === a.store(v))).toBe(true);
  });

  test('jacobianEntry is symmetric off the diagonal', () => {
    const s = f64([0.2, 0.3, 0.5]);
    expect(jacobianEntry(s, 0, 2)).toBe(jacobianEntry(s, 2, 0));
  });
});

describe('the two backward methods', () => {
  test('agree within n ulps of s_i·max|g| (the rounding bound of the sums) on spread-out data', () => {
    const n = 200;
    const { s, g } = sampleSlice(n);
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    jacobianBackwardSlice(s, g, a);
    closedFormBackwardSlice(s, g, b);
    const scale = Math.max(...Array.from(g, Math.abs));
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThanOrEqual(n * Number.EPSILON * scale * s[i]));
  });
});
