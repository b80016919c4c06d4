import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  EXP_ERROR,
  expDoubleDouble,
  exponentials,
  FAR_LIMIT,
  FAST_FLOOR,
  ln2Fixed,
  prepareExp,
  STEP_C1,
  STEP_C2,
  STEP_C3,
  TABLE_HI,
  TABLE_LO,
} from '../../src/numeric/double-double-exp.js';
import { twoSum } from '../../src/numeric/error-free.js';
import { exactDecimal } from '../../src/reference/bignumber-reference.js';
import { decimalWithPrecision, type Decimal } from '../helpers/big-decimal.js';
import { PROPERTY_RUNS, PROPERTY_SEED, propertyTimeout } from '../helpers/properties.js';

const Decimal = decimalWithPrecision(70);
const big = (v: number | bigint): Decimal => new Decimal(typeof v === 'bigint' ? v.toString() : exactDecimal(v));
const TWO = new Decimal('2');
const power = (k: number): Decimal => TWO.pow(new Decimal(String(k)));

/** |2^k (hi + lo) − exp(t)| / exp(t), from 70 digits of decimal.js on the exact argument t = hi + lo. */
function relativeError(hi: number, lo: number): number {
  const out = new Float64Array(3);
  expect(expDoubleDouble(hi, lo, out)).toBe(true);
  const exact = big(hi).plus(big(lo)).exp();
  const mine = big(out[1]).plus(big(out[2])).times(power(out[0]));
  return mine.minus(exact).div(exact).abs().toNumber();
}

/** The exponential's result is a normalised double-double with its mantissa in [0.9998, 2.0004]. */
function wellFormed(hi: number, lo: number): boolean {
  const out = new Float64Array(3);
  expDoubleDouble(hi, lo, out);
  return Number.isInteger(out[0]) && out[1] >= 0.9998 && out[1] <= 2.0004 && out[1] + out[2] === out[1] && Math.abs(out[2]) <= out[1] * 2 ** -53;
}

// An argument as the reference engine makes one: the exact difference of two float64 logits.
const difference = (spread: number) =>
  fc
    .tuple(fc.double({ min: -1e4, max: 1e4, noNaN: true }), fc.double({ min: 0, max: spread, noNaN: true }))
    .map(([x, s]) => twoSum(x - s, -x))
    .filter((t) => t.hi <= 0);

describe('the double-double exponential', () => {
  test("splits ln2/2048 into C1 (29 bits, so that n·C1 is exact for |n| < 2^24) + C2 + C3, within 2^-150 of a BigInt series' value", () => {
    const c1Bits = STEP_C1 * 2 ** 40; // C1 is in [2^-12, 2^-11): 29 bits reach 2^-40
    expect(Number.isInteger(c1Bits)).toBe(true);
    expect(c1Bits).toBeLessThan(2 ** 29);
    const step = big(ln2Fixed(400n)).div(power(400)).div(new Decimal('2048'));
    const split = big(STEP_C1).plus(big(STEP_C2)).plus(big(STEP_C3));
    expect(split.minus(step).abs().div(step).toNumber()).toBeLessThan(2 ** -140);
    expect(big(ln2Fixed(400n)).div(power(400)).minus(new Decimal('0.6931471805599453094172321214581765680755001343602552541206800094933936219696947156058633269964186875')).abs().toNumber()).toBeLessThan(1e-65);
  });

  test('has a table of 2^(j/2048) within u² = 2^-106 of the exact values, every j', () => {
    prepareExp();
    const D = decimalWithPrecision(45);
    const two = new D('2');
    let worst = 0;
    for (let j = 0; j < 2048; j++) {
      const exact = two.pow(new D(String(j)).div(new D('2048')));
      const mine = new D(exactDecimal(TABLE_HI[j])).plus(new D(exactDecimal(TABLE_LO[j])));
      worst = Math.max(worst, mine.minus(exact).div(exact).abs().toNumber());
      expect(TABLE_HI[j] + TABLE_LO[j]).toBe(TABLE_HI[j]);
    }
    expect(worst).toBeLessThanOrEqual(2 ** -106);
  });

  test('is within EXP_ERROR = 2^-102 of exp, relative, on random exact differences of logits up to 1600 apart', () => {
    fc.assert(
      fc.property(difference(1600), (t) => relativeError(t.hi, t.lo) < EXP_ERROR && wellFormed(t.hi, t.lo)),
      { numRuns: PROPERTY_RUNS * 10, seed: PROPERTY_SEED },
    );
  }, propertyTimeout(20));

  test('is within EXP_ERROR on differences up to 2·10^4: the BigInt reduction beyond 4096', () => {
    fc.assert(
      fc.property(difference(2e4), (t) => relativeError(t.hi, t.lo) < EXP_ERROR && wellFormed(t.hi, t.lo)),
      { numRuns: PROPERTY_RUNS, seed: PROPERTY_SEED },
    );
  }, propertyTimeout(20));

  test.each([
    [-1e-300, 0],
    [-5e-324, 0],
    [-Math.LN2, 0],
    [(-0.5 * Math.LN2) / 2048, 0],
    [(-1.5 * Math.LN2) / 2048, 1e-20],
    [-37.43, 0],
    [-745.2, 0],
    [-1000, 0],
    [-1599.999, 0],
    [FAST_FLOOR, 0],
    [FAST_FLOOR, -(2 ** -41)],
    [FAST_FLOOR - 2 ** -40, 2 ** -41],
    [-12345.678, 1e-13],
    [-1e6, 0],
    [-1e12, 0],
    [FAR_LIMIT, 0],
  ])('is within EXP_ERROR of exp(%d + %d)', (hi, lo) => {
    expect(relativeError(hi, lo)).toBeLessThan(EXP_ERROR);
    expect(wellFormed(hi, lo)).toBe(true);
  });

  test('gives exp(0) = 1 exactly', () => {
    const out = new Float64Array(3);
    expect(expDoubleDouble(0, 0, out)).toBe(true);
    expect(Array.from(out)).toEqual([0, 1, 0]);
  });

  test('refuses arguments below FAR_LIMIT, -Infinity and NaN', () => {
    const out = Float64Array.of(7, 7, 7);
    for (const hi of [FAR_LIMIT * 2, -1e300, -Infinity, NaN]) expect(expDoubleDouble(hi, 0, out)).toBe(false);
    expect(Array.from(out)).toEqual([7, 7, 7]);
  });

  test('exponentials: exp(x_j − x_p) for a whole slice, 1 at the pivot, −∞ for masks and beyond FAR_LIMIT', () => {
    const x = Float64Array.of(1, -Infinity, 3, -2, 3 - 2e12);
    const [k, hi, lo] = [new Float64Array(5), new Float64Array(5), new Float64Array(5)];
    expect(exponentials(x, 2, k, hi, lo)).toBe(false);
    expect([k[2], hi[2], lo[2]]).toEqual([0, 1, 0]);
    expect(k[1]).toBe(-Infinity);
    expect(k[4]).toBe(-Infinity);
    const one = new Float64Array(3);
    for (const j of [0, 3]) {
      expDoubleDouble(x[j] - 3, 0, one);
      expect([k[j], hi[j], lo[j]]).toEqual(Array.from(one));
    }
    expect(exponentials(x.subarray(0, 4), 2, k, hi, lo)).toBe(true);
  });
});
