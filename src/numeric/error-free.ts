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
  const v = s - a;
  return { hi: s, lo: a - (s - v) + (b - v) };
}

const SPLITTER = 134217729; // 2^27 + 1

/** a · b exactly (Dekker's two-product, with Veltkamp's split: JavaScript has no FMA). */
export function twoProd(a: number, b: number): Pair {
  const p = a * b;
  const ta = SPLITTER * a;
  const ah = ta - (ta - a);
  const al = a - ah;
  const tb = SPLITTER * b;
  const bh = tb - (tb - b);
  const bl = b - bh;
  return { hi: p, lo: ah * bh - p + ah * bl + al * bh + al * bl };
}
