import { twoProd, twoSum } from './error-free.js';
import { ldexp } from './ldexp.js';

/**
 * Double-double arithmetic: a number held as an unevaluated sum `hi + lo` of two float64s with
 * `|lo| ≤ ulp(hi) / 2`, about 106 bits (32 decimal digits) of significand. The add, multiply and
 * divide are built on the error-free transformations of `numeric/error-free.ts` and follow Hida,
 * Li and Bailey's QD library ("accurate" variants throughout).
 */
export interface DD {
  readonly hi: number;
  readonly lo: number;
}

export const dd = (hi: number, lo = 0): DD => ({ hi, lo });

/** a + b exactly, given |a| ≥ |b| (Dekker). */
function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return { hi: s, lo: b - (s - a) };
}

export function add(a: DD, b: DD): DD {
  const s = twoSum(a.hi, b.hi);
  const t = twoSum(a.lo, b.lo);
  const u = quickTwoSum(s.hi, s.lo + t.hi);
  return quickTwoSum(u.hi, u.lo + t.lo);
}

export const neg = (a: DD): DD => ({ hi: -a.hi, lo: -a.lo });
export const sub = (a: DD, b: DD): DD => add(a, neg(b));

export function mul(a: DD, b: DD): DD {
  const p = twoProd(a.hi, b.hi);
  return quickTwoSum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi));
}

export function mulNumber(a: DD, b: number): DD {
  const p = twoProd(a.hi, b);
  return quickTwoSum(p.hi, p.lo + a.lo * b);
}

export function div(a: DD, b: DD): DD {
  // Long division: three quotient digits, each corrected against the exact remainder.
  const q1 = a.hi / b.hi;
  let r = sub(a, mulNumber(b, q1));
  const q2 = r.hi / b.hi;
  r = sub(r, mulNumber(b, q2));
  const q3 = r.hi / b.hi;
  const q = quickTwoSum(q1, q2);
  return add(q, dd(q3));
}

/** a · 2^k for small k, exact while no part leaves the normal range. */
export const scale = (a: DD, k: number): DD => ({ hi: a.hi * 2 ** k, lo: a.lo * 2 ** k });

// ln 2 to double-double precision (QD's constant).
const LN2 = dd(6.931471805599452862e-1, 2.319046813846299558e-17);
const SQUARINGS = 9;

/**
 * exp(a) as `2^k · m` with `m` a double-double in [1/√2, √2], so that results far below the
 * float64 range keep their full precision until the final rounding.
 *
 * Method (QD's): k = round(a / ln 2), r = a − k ln 2, then expm1(r / 2^9) by its Taylor series
 * (|r / 2^9| < 7e-4, 14 terms reach 1e-45) and nine squarings of 1 + that, done on expm1 as
 * e ↦ e (2 + e) so that the small part is never rounded against the 1.
 */
export function expScaled(a: DD): { k: number; m: DD } {
  const k = Math.round(a.hi / LN2.hi);
  const r = sub(a, mulNumber(LN2, k));
  const x = scale(r, -SQUARINGS);
  let term = x;
  let sum = x;
  for (let n = 2; n <= 14; n++) {
    term = div(mul(term, x), dd(n));
    sum = add(sum, term);
  }
  for (let i = 0; i < SQUARINGS; i++) sum = mul(sum, add(sum, dd(2)));
  return { k, m: add(sum, dd(1)) };
}

const SMALLEST_SUBNORMAL_EXPONENT = -1074;

/**
 * The float64 nearest to `2^k · a` (ties to even), also when it is subnormal, where the spacing
 * is fixed and scaling `hi` alone would round without seeing `lo`.
 */
export function toNumberScaled(a: DD, k: number): number {
  const hi = ldexp(a.hi, k);
  // Above the subnormal range scaling is exact, and hi is already hi + lo rounded to nearest.
  if (Math.abs(hi) > 2 ** -1022 || a.hi === 0) return hi;
  // Count in units of the smallest subnormal, 2^(k + 1074) · a, and round that to an integer.
  const unitsHi = ldexp(a.hi, k - SMALLEST_SUBNORMAL_EXPONENT);
  const unitsLo = ldexp(a.lo, k - SMALLEST_SUBNORMAL_EXPONENT);
  // The sign comes from hi itself: the scaled units may have underflowed to a signed zero.
  const sign = a.hi < 0 ? -1 : 1;
  const magnitudeHi = Math.abs(unitsHi);
  const floor = Math.floor(magnitudeHi);
  // magnitudeHi − floor − 0.5 is exact (it drops integer bits, then meets Sterbenz's lemma); lo is
  // below half an ulp of hi, so it decides only a value that is otherwise exactly half way.
  const fromHalf = magnitudeHi - floor - 0.5;
  const towardsLo = sign * unitsLo;
  const roundUp = fromHalf !== 0 ? fromHalf > 0 : towardsLo !== 0 ? towardsLo > 0 : floor % 2 === 1;
  return sign * (roundUp ? floor + 1 : floor) * 2 ** SMALLEST_SUBNORMAL_EXPONENT;
}
