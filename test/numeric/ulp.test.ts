import { describe, expect, test } from 'vitest';
import { ulpDistance } from '../../src/numeric/ulp.js';

describe('ulpDistance (numpy nulp_diff)', () => {
  test.each([
    [1, 1 + 2 ** -52, 'float64', 1],
    [1, 1 - 2 ** -53, 'float64', 1],
    [1, 1 + 2 ** -50, 'float64', 4],
    [0, -0, 'float64', 0],
    [5e-324, -5e-324, 'float64', 2],
    [1.7976931348623157e308, Infinity, 'float64', 1],
    [Infinity, Infinity, 'float64', 0],
    [1, 1 + 2 ** -23, 'float32', 1],
    [1, 1 + 2 ** -52, 'float32', 0],
    [1, 1 + 2 ** -10, 'float16', 1],
    [1, 1 + 2 ** -7, 'bfloat16', 1],
    [-1, 1, 'float16', 2 * 0x3c00],
    [NaN, NaN, 'float64', 0],
    [NaN, 1, 'float32', Infinity],
    [1, NaN, 'float16', Infinity],
  ] as const)('between %d and %d in %s: %d', (a, b, dtype, distance) => {
    expect(ulpDistance(a, b, dtype)).toBe(distance);
  });

  test('the PyTorch issue 195684 gradient: 0 against 5.55e-17 is about 4.3e18 float64 ulps', () => {
    // Every float64 between 0 and 2^-54 is counted: the index of 2^-54 is (1023 - 54) << 52.
    expect(ulpDistance(0, 2 ** -54, 'float64')).toBe((1023 - 54) * 2 ** 52);
  });
});
