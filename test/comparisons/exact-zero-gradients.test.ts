import { describe, expect, test } from 'vitest';
import { exactZeroGradients } from '../../src/numeric/exact-zero-gradients.js';
import { f64 } from '../helpers/fixtures.js';

const zerosOf = (x: number[], g: number[]) => {
  const zeros = exactZeroGradients(f64(x), f64(g));
  return zeros === undefined ? undefined : Array.from(zeros);
};

describe('exactZeroGradients', () => {
  test('finds the exact 0 of symmetric g over equal logits: ⟨s, g⟩ = s_1 − s_2 = 0', () => {
    expect(zerosOf([1, 2, 2], [0, 1, -1])).toEqual([1, 0, 0]);
  });

  test('finds none where a tiny g breaks the symmetry: 7e-63 is not 0', () => {
    // A long property run found the engines calling this gradient 0 from rounding noise.
    const big = 999.9999999999984;
    expect(zerosOf([0, 0, 10.472208023071289, 0, 0, 0, 0, 0], [0, 0, -7.246762663461502e-63, big, 0, 0, -big, 0])).toBeUndefined();
  });

  test('a constant g: every gradient is exactly 0', () => {
    expect(zerosOf([0.5, -3, 7], [2.5, 2.5, 2.5])).toEqual([1, 1, 1]);
  });

  test('compares means exactly: 1 and 3 average to 2, and 0.1 + 0.2 does not average to 0.15', () => {
    expect(zerosOf([0, 0, 1], [1, 3, 2])).toEqual([0, 0, 1]);
    expect(zerosOf([0, 0, 1], [0.1, 0.2, 0.15])).toBeUndefined();
    // Both groups average to the exact binary (0.1 + 0.2) / 2, which no float64 g equals.
    expect(zerosOf([0, 0, 1, 1], [0.1, 0.2, 0.2, 0.1])).toBeUndefined();
    expect(zerosOf([0, 0, 1, 1, 2], [0.25, 0.75, 0.75, 0.25, 0.5])).toEqual([0, 0, 0, 0, 1]);
  });

  test('finds exact zeros where float64 sums of g overflow', () => {
    expect(zerosOf([0, 1], [1.7e308, 1.7e308])).toEqual([1, 1]);
    expect(zerosOf([0, 0, 1], [1.7e308, -1.7e308, 0])).toEqual([0, 0, 1]);
  });

  test('finds none in a large unstructured slice, and the zeros of a large structured one', () => {
    const n = 100_000;
    const x = Array.from({ length: n }, (_, i) => Math.sin(i) * 10);
    expect(zerosOf(x, Array.from({ length: n }, (_, i) => Math.cos(i)))).toBeUndefined();
    // Pairs of equal logits with g = ±1 around 0.5: every group averages 0.5, and the single
    // logit with g = 0.5 has an exact zero.
    const paired = Array.from({ length: n }, (_, i) => Math.floor(i / 2));
    const g = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1.5 : -0.5));
    const zeros = zerosOf([...paired, n], [...g, 0.5])!;
    expect(zeros.slice(-3)).toEqual([0, 0, 1]);
  });

  test('leaves masked logits out of the groups', () => {
    expect(zerosOf([0, -Infinity, 1], [5, 100, 5])).toEqual([1, 0, 1]);
  });

  test('groups differing by one ulp in their mean have no exact zeros', () => {
    expect(zerosOf([0, 1], [0.1, 0.1 + 2 ** -56])).toBeUndefined();
  });
});
