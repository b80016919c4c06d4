import { describe, expect, test } from 'vitest';
import { formatIndex, multiIndex, normaliseDim, sameShape, toNested } from '../src/tensor.js';

describe('normaliseDim (PyTorch rule)', () => {
  test.each([
    [-1, 3, 2],
    [-3, 3, 0],
    [0, 3, 0],
    [2, 3, 2],
    [0, 1, 0],
    [-1, 1, 0],
  ])('dim %i of rank %i is axis %i', (dim, rank, axis) => {
    expect(normaliseDim(dim, rank)).toBe(axis);
  });

  test.each([
    [3, 3],
    [-4, 3],
    [1, 1],
    [0.5, 2],
  ])('dim %d of rank %i is out of range', (dim, rank) => {
    expect(normaliseDim(dim, rank)).toBeUndefined();
  });
});

describe('indices', () => {
  test('multiIndex inverts row-major flattening', () => {
    expect(multiIndex(0, [2, 3, 4])).toEqual([0, 0, 0]);
    expect(multiIndex(23, [2, 3, 4])).toEqual([1, 2, 3]);
    expect(multiIndex(13, [2, 3, 4])).toEqual([1, 0, 1]);
  });

  test('formatIndex writes [i, j]', () => {
    expect(formatIndex(7, [2, 4])).toBe('[1, 3]');
    expect(formatIndex(7, [9])).toBe('[7]');
  });

  test('sameShape compares rank and sizes', () => {
    expect(sameShape([2, 3], [2, 3])).toBe(true);
    expect(sameShape([2, 3], [3, 2])).toBe(false);
    expect(sameShape([6], [2, 3])).toBe(false);
  });

  test('toNested rebuilds nested arrays, mapping each value', () => {
    expect(toNested([1, 2, 3, 4, 5, 6], [2, 3], (v) => v * 10)).toEqual([[10, 20, 30], [40, 50, 60]]);
    expect(toNested([1, 2], [2, 1, 1], String)).toEqual([[['1']], [['2']]]);
  });
});
