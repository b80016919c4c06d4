import { describe, expect, test } from 'vitest';
import { softmaxLogSumExpSlice } from '../../src/ops/softmax/softmax-log-sum-exp.js';
import { softmaxNormalisedSlice } from '../../src/ops/softmax/softmax-normalised.js';
import { f64, loadFixture } from '../helpers/fixtures.js';

// Both forward formulas must obey the same rules; each is tested on its own.
const FORWARDS = [
  ['normalised exponentials', softmaxNormalisedSlice],
  ['log-sum-exp', softmaxLogSumExpSlice],
] as const;

function run(forward: (x: Float64Array, out: Float64Array) => void, x: readonly number[]): number[] {
  const out = new Float64Array(x.length);
  forward(f64(x), out);
  return Array.from(out);
}

describe.each(FORWARDS)('softmax by %s', (_, forward) => {
  test('equal logits give the uniform distribution exactly', () => {
    expect(run(forward, [3, 3, 3, 3])).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  test('probabilities are in the ratio exp(x_i - x_j)', () => {
    const s = run(forward, [0, Math.log(3)]);
    expect(s[0]).toBeCloseTo(0.25, 15);
    expect(s[1]).toBeCloseTo(0.75, 15);
  });

  test('a single element has probability 1', () => {
    expect(run(forward, [-42.5])).toEqual([1]);
  });

  test('large logits do not overflow (x = [1000, 1001, 1002])', () => {
    const s = run(forward, [1000, 1001, 1002]);
    const shifted = run(forward, [0, 1, 2]);
    s.forEach((v, i) => expect(v).toBeCloseTo(shifted[i], 15));
    expect(s.every(Number.isFinite)).toBe(true);
  });

  test('very negative logits do not give 0/0 (x = [-1000, -999])', () => {
    const s = run(forward, [-1000, -999]);
    const shifted = run(forward, [0, 1]);
    expect(s[0]).toBeCloseTo(shifted[0], 15);
    expect(s[1]).toBeCloseTo(shifted[1], 15);
  });

  test('returns 0 for a -Infinity logit (a mask)', () => {
    const s = run(forward, [0, -Infinity, 0]);
    expect(s).toEqual([0.5, 0, 0.5]);
  });

  test('returns NaN everywhere when every logit is -Infinity, as PyTorch does', () => {
    expect(run(forward, [-Infinity, -Infinity]).every(Number.isNaN)).toBe(true);
  });

  test('a NaN logit makes the whole slice NaN', () => {
    expect(run(forward, [1, NaN, 2]).every(Number.isNaN)).toBe(true);
  });

  test('a +Infinity logit makes the whole slice NaN', () => {
    expect(run(forward, [Infinity, 0, 1]).every(Number.isNaN)).toBe(true);
  });

  test('matches PyTorch on the seed example to float64 tolerance', () => {
    const fixture = loadFixture('seed.json');
    const s = run(forward, Array.from(fixture.x!.data));
    const expected = fixture.expected!.forward!;
    s.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(4 * Number.EPSILON * expected[i]));
  });
});

describe('the two forward formulas', () => {
  test('differ only by rounding: a few ulps on a wide spread of logits', () => {
    const x = Array.from({ length: 50 }, (_, i) => Math.sin(i) * 30);
    const a = run(softmaxNormalisedSlice, x);
    const b = run(softmaxLogSumExpSlice, x);
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThanOrEqual(64 * Number.EPSILON * v));
  });
});
