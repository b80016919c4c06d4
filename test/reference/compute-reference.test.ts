import { describe, expect, test } from 'vitest';
import { computeReference } from '../../src/ops/softmax/softmax-reference.js';
import { loadBigNumberReference } from '../../src/reference/bignumber-reference.js';
import { f64 } from '../helpers/fixtures.js';

describe('computeReference', () => {
  test('computes every slice along the dim with double-double when it can decide them all', async () => {
    let loaded = false;
    const result = await computeReference(
      { shape: [2, 2], data: f64([0, 0, 1, 1]) },
      { shape: [2, 2], data: f64([1, 0, 0, 1]) },
      0,
      'double-double',
      async () => {
        loaded = true;
        return loadBigNumberReference();
      },
    );
    expect(loaded).toBe(false);
    expect(result.slicesByBigNumber).toBe(0);
    // Along dim 0 the columns are [0, 1] and [0, 1].
    expect(result.forward[0]).toBe(result.forward[1]);
    expect(result.forward[0] + result.forward[2]).toBeCloseTo(1, 15);
  });

  test('hands a slice too close to call to BigNumber, leaving the others as they are', async () => {
    // Row 1 nearly cancels: two probabilities of one half with g of nearly opposite sign, so
    // g − ⟨s, g⟩ loses 15 digits for the small ones and double-double cannot decide the rounding.
    const hard = [0, 0, 37.43, 0, 0, 0, 37.43, 0, 0, 0, 0];
    const hardG = [0, 0, 999.9999999999983, 0, 0, 0, -999.9999999999965, 0, 0, 0, 0];
    const easy = Array.from({ length: 11 }, (_, i) => i / 3);
    const x = { shape: [2, 11], data: f64([...easy, ...hard]) };
    const g = { shape: [2, 11], data: f64([...easy, ...hardG]) };
    const mixed = await computeReference(x, g, 1, 'double-double', loadBigNumberReference);
    const judge = await computeReference(x, g, 1, 'bignumber', loadBigNumberReference);
    expect(mixed.slicesByBigNumber).toBe(1);
    expect(judge.slicesByBigNumber).toBe(2);
    expect(Array.from(mixed.grad)).toEqual(Array.from(judge.grad));
    // mpmath at 1000 digits, rounded to float64, for the small elements of the hard row.
    expect(mixed.grad[11]).toBe(-2.5242230032080065e-29);
  });
});
