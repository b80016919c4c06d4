import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { accurateExp, EXP_ARGUMENT_FLOOR, type ScaledExp } from '../../src/numeric/accurate-exp.js';
import { twoSum } from '../../src/numeric/error-free.js';
import { exactDecimal } from '../../src/reference/bignumber-reference.js';
import { decimalWithPrecision, type Decimal } from '../helpers/big-decimal.js';
import { PROPERTY_RUNS, PROPERTY_SEED, propertyTimeout } from '../helpers/properties.js';

const Decimal = decimalWithPrecision(60);
const TWO = new Decimal('2');
const power = (k: number): Decimal => {
  let result = new Decimal('1');
  const factor = k < 0 ? new Decimal('0.5') : TWO;
  for (let i = 0; i < Math.abs(k); i++) result = result.times(factor);
  return result;
};

/** |computed − exp(hi + lo)| / exp(hi + lo), from 60 digits of decimal.js on the exact argument. */
function relativeError(hi: number, lo: number): number {
  const out = accurateExp(hi, lo, { k: 0, hi: 0, lo: 0 });
  const exact = new Decimal(exactDecimal(hi)).plus(new Decimal(exactDecimal(lo))).exp();
  const mine = new Decimal(exactDecimal(out.hi)).plus(new Decimal(exactDecimal(out.lo))).times(power(out.k));
  return mine.minus(exact).div(exact).abs().toNumber();
}

// An argument as the accurate closed form makes one: the exact difference of two float64 logits.
const argument = fc
  .tuple(fc.double({ min: -800, max: 800, noNaN: true }), fc.double({ min: 0, max: 800, noNaN: true }))
  .map(([x, spread]) => twoSum(x - spread, -x))
  .filter((t) => t.hi <= 0 && t.hi >= EXP_ARGUMENT_FLOOR);

describe('accurateExp', () => {
  test('is within 2^-88 of exp, relative, on random exact differences of logits', () => {
    fc.assert(
      fc.property(argument, (t) => relativeError(t.hi, t.lo) < 2 ** -88),
      { numRuns: PROPERTY_RUNS * 10, seed: PROPERTY_SEED },
    );
  }, propertyTimeout(20));

  test.each([0, -1e-300, -5e-324, -Math.LN2, -0.5 * Math.LN2 / 2048, -37.43, -745.2, -1000, -1599.999])(
    'is within 2^-88 of exp(%d)',
    (hi) => {
      expect(relativeError(hi, 0)).toBeLessThan(2 ** -88);
    },
  );

  test('gives exp(0) = 1 exactly', () => {
    expect(accurateExp(0, 0, { k: 0, hi: 0, lo: 0 })).toEqual({ k: 0, hi: 1, lo: 0 });
  });

  test('gives 0 below the floor, for -Infinity, and NaN for NaN', () => {
    const out: ScaledExp = { k: 5, hi: 1, lo: 1 };
    expect(accurateExp(-1601, 0, out)).toEqual({ k: 0, hi: 0, lo: 0 });
    expect(accurateExp(-Infinity, 0, out)).toEqual({ k: 0, hi: 0, lo: 0 });
    expect(Number.isNaN(accurateExp(NaN, 0, out).hi)).toBe(true);
  });
});
