import { describe, expect, test } from 'vitest';
import { forEachSlice, sliceLayout, sliceStart } from '../../src/numeric/slices.js';
import { f64 } from '../helpers/fixtures.js';

describe('sliceLayout', () => {
  test('the last dim of [2, 3, 4]: 6 contiguous slices of 4', () => {
    expect(sliceLayout([2, 3, 4], 2)).toEqual({ length: 4, stride: 1, count: 6 });
  });

  test('the middle dim of [2, 3, 4]: 8 slices of 3, stride 4', () => {
    const layout = sliceLayout([2, 3, 4], 1);
    expect(layout).toEqual({ length: 3, stride: 4, count: 8 });
    // Slice 5 is outer 1, inner 1: it starts at 1·12 + 1 and visits 13, 17, 21.
    expect(sliceStart(layout, 5)).toBe(13);
  });

  test('dim 0 of [5, 3]: 3 columns of 5', () => {
    const layout = sliceLayout([5, 3], 0);
    expect(layout).toEqual({ length: 5, stride: 3, count: 3 });
    expect([0, 1, 2].map((k) => sliceStart(layout, k))).toEqual([0, 1, 2]);
  });
});

describe('forEachSlice', () => {
  test('gathers strided slices, hands them over contiguous, and scatters the output back', () => {
    // A 2×3 array; along dim 0 the slices are its columns.
    const data = f64([1, 2, 3, 10, 20, 30]);
    const out = new Float64Array(6);
    const seen: number[][] = [];
    forEachSlice(sliceLayout([2, 3], 0), [data], [out], ([column], [result]) => {
      seen.push(Array.from(column));
      result[0] = column[0] + column[1];
      result[1] = column[1] - column[0];
    });
    expect(seen).toEqual([[1, 10], [2, 20], [3, 30]]);
    expect(Array.from(out)).toEqual([11, 22, 33, 9, 18, 27]);
  });

  test('passes contiguous slices as views onto the data itself', () => {
    const data = f64([1, 2, 3, 4]);
    const out = new Float64Array(4);
    forEachSlice(sliceLayout([2, 2], 1), [data], [out], ([row], [result]) => {
      expect(row.buffer).toBe(data.buffer);
      result.set(row.map((v) => v * 2));
    });
    expect(Array.from(out)).toEqual([2, 4, 6, 8]);
  });
});
