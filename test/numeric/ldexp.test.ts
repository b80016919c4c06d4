import { describe, expect, test } from 'vitest';
import { ldexp } from '../../src/numeric/ldexp.js';

describe('ldexp', () => {
  test('is x · 2^k exactly wherever the result is normal, for every k that allows one', () => {
    for (const x of [1, -1.5, Math.PI, 2 ** -1074, 1.7976931348623157e308]) {
      for (let k = -2200; k <= 2200; k++) {
        // Three steps of at most 2^±734, each between x and the result, so exact where both are.
        const third = Math.trunc(k / 3);
        const expected = x * 2 ** third * 2 ** third * 2 ** (k - 2 * third);
        const result = ldexp(x, k);
        if (Math.abs(expected) >= 2 ** -1022 && Number.isFinite(expected)) expect(result, `${x} · 2^${k}`).toBe(expected);
      }
    }
    expect(ldexp(3, 1023)).toBe(Infinity);
    expect(ldexp(2 ** 1000, -2074)).toBe(2 ** -1074);
  });

  test('rounds once into the subnormal range', () => {
    // 1.5 · 2^-1074 is a tie between 2^-1074 and 2^-1073: even is 2^-1073.
    expect(ldexp(1.5, -1074)).toBe(2 ** -1073);
    expect(ldexp(1 + 2 ** -52, -1075)).toBe(2 ** -1074);
  });

  test('takes huge, infinite and NaN exponents without looping', () => {
    // 2^-1.2e131 is what exp(-8.6e130) scales by: a fuzzed input once left the loop running for ever.
    expect(ldexp(1.5, -1.2e131)).toBe(0);
    expect(ldexp(-1.5, -1.2e131)).toBe(-0);
    expect(ldexp(2 ** -1074, 1e300)).toBe(Infinity);
    expect(ldexp(0, 1e300)).toBe(0);
    expect(ldexp(3, Infinity)).toBe(Infinity);
    expect(ldexp(3, -Infinity)).toBe(0);
    expect(ldexp(3, NaN)).toBeNaN();
  });
});
