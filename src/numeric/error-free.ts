/**
 * Error-free transformations: the rounded result of a sum or product together with its exact
 * rounding error, so that a + b = hi + lo and a · b = hi + lo hold exactly in real arithmetic.
 */
export interface Pair {
  readonly hi: number;
  readonly lo: number;
}

/** a + b exactly (Knuth's two-sum; no condition on |a|, |b|). */
export function twoSum(a: number, b: number): Pair {
  const s = a + b;
  return { hi: s, lo: twoSumError(a, b, s) };
}

/**
 * The rounding error of s = a + b, so that a + b = s + error exactly: two-sum without the pair,
 * for loops that run per element, where allocating the pair costs more than the arithmetic.
 */
export function twoSumError(a: number, b: number, s: number): number {
  const v = s - a;
  return a - (s - v) + (b - v);
}

const SPLITTER = 134217729; // 2^27 + 1

/** a · b exactly (Dekker's two-product, with Veltkamp's split: JavaScript has no FMA). */
export function twoProd(a: number, b: number): Pair {
  const p = a * b;
  return { hi: p, lo: twoProdError(a, b, p) };
}

/** The rounding error of p = a · b, so that a · b = p + error exactly (two-product without the pair). */
export function twoProdError(a: number, b: number, p: number): number {
  const ta = SPLITTER * a;
  const ah = ta - (ta - a);
  const al = a - ah;
  const tb = SPLITTER * b;
  const bh = tb - (tb - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}
