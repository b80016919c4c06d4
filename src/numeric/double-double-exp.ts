import { BAKED_TABLES, type BakedTables } from './baked-tables.js';

/**
 * exp(t) in double-double for the reference engine, table-driven, with a rigorous error bound:
 * EXP_ERROR below. Nothing is allocated per call: the result is written into a Float64Array.
 *
 * Method (Tang's, in double-double). t = hi + lo is an exact difference of two float64 logits,
 * t ≤ 0. Write t = n·ln2/2048 + r with n an integer and |r| ≤ ln2/4096 (about 1.7e-4); then
 *   exp(t) = 2^k · 2^(j/2048) · exp(r),   n = 2048 k + j,  0 ≤ j < 2048,
 * and exp(r) = 1 + r + r²/2 + r³/6 + (r⁴/24 + … + r⁷/5040), the first three terms in
 * double-double, the rest (below 2^-54.6) in float64. The result is 2^k · m with m a double-double
 * in [0.9998, 2.0004]: the exponent is kept apart, so values far below the float64 range keep full
 * precision until their final rounding.
 *
 * The table 2^(j/2048), as double-doubles, is computed once with BigInt fixed point (192 bits:
 * eleven integer square roots of 2, then 2047 products), not with the double-double code it is
 * meant to replace; ln 2 likewise (a BigInt series) for the constants' test.
 *
 * Error bound (u = 2^-53, |r| ≤ R_MAX = 1.6925e-4; every float64 operation below rounds to nearest):
 * - Reduction, |t| ≤ 4096 (|n| < 2^24): ln2/2048 = C1 + C2 + C3 + δ with C1 of 29 significant bits
 *   (so n·C1 is exact), |δ| < 2^-154. th − n·C1, n·C2 and the additions of s, tl are exact
 *   error-free transformations; the four float64 additions of the low parts (each below 2^-64.4)
 *   round by at most 2^-117.4 each, n·C3 (below 2^-76) by 2^-129, n·δ < 2^-130: |r̃ − r| < 2^-115.
 *   |r| ≤ (ln2/2048)(1/2 + 2^-28.5) + |tl| ≤ 1.6924e-4 (n from a product rounded within 2^-28.5
 *   of th·2048/ln2, and |tl| ≤ ulp(th)/2 ≤ 2^-41).
 *   Beyond, 4096 < |t| ≤ 2^40: r is formed in BigInt fixed point (2^-256), then rounded to a
 *   double-double: |r̃ − r| < 2^-190.
 * - exp(r) − 1 = r + r²/2 + r³/6 + F + ρ, |ρ| ≤ R_MAX⁸/8! · 1.001 < 2^-115.4.
 *   r²/2: rh² is exact (two-product), 2·rh·rl and the halving are rounded below 2^-129 and rl² is
 *   below 2^-131. r³/6: rh³ = (sq + sqL)·rh exactly up to sqL·rh's rounding, 3rh²rl and the other
 *   low terms are rounded below 2^-139; the product with 1/6 = S1 + S2 (two-product on S1) errs
 *   below 2^-138 in all. F = r⁴/24 (1 + r/5 + r²/30 + r³/210) with rh in float64: rh⁴ as sq·sq
 *   (relative error ≤ 3u), the Horner polynomial (≤ 2.01u, its leading constant's rounding
 *   included), the product (u): ≤ 6.01u·R_MAX⁴/24 < 2^-105.1; r⁴'s term in rl, 4rh³rl/24, is
 *   added to the cubic's low part, so rl costs F only second-order terms (< 2^-150).
 *   The sum: two two-sums of the high parts are exact; the low parts (below 2^-64.4) are added
 *   first (4 roundings < 2^-115.4 in all), then F (one rounding < 2^-107.6), then fast-two-sum.
 *   So |p̃ − (exp(r̃) − 1)| < 2^-105.1 + 2^-107.6 + 2^-114 < 2.9e-32, and exp(r) vs exp(r̃)
 *   adds |r̃ − r|·1.0002 < 2^-115 (relative).
 * - Table: |2^(j/2048) − (Th + Tl)| ≤ u²·2^(j/2048) + 2^-177 (the double-double's own rounding,
 *   Number() of a BigInt rounding to nearest, and the fixed point's truncations).
 * - m = T (1 + p) = Th + Th·ph + (Tl + Th·pl + Tl·ph) + Tl·pl: Th·ph by two-product (exact),
 *   Th + P by two-sum (exact); the cross terms (< 2^-64) round below 2^-116.4 in all, Tl·pl
 *   (< 2^-131) is dropped; adding Tl (|sum| < 2^-52.9, rounding ≤ 2^-105.9) and then the two-sum's
 *   error (|sum| < 2^-51, rounding ≤ 2^-104) before the final fast-two-sum: < 7.6e-32 in all.
 *   Relative to m ≥ 0.9998: p's error 2.9e-32 + r's 2.4e-35 + the table's 1.24e-32 + the
 *   assembly's 7.6e-32 + 1.1e-34 < 1.2e-31 < 2^-102.7.
 * So |m̃ 2^k − exp(t)| ≤ EXP_ERROR · exp(t), EXP_ERROR = 2^-102 (1.97e-31), with room to spare.
 * t = 0 gives m = 1 exactly (n = 0, j = 0, r = 0).
 */

/** Relative error bound of expDoubleDouble, derived above. */
export const EXP_ERROR = 2 ** -102;

/** Below this t (down to FAR_LIMIT) the reduction is done in BigInt: rare, for spreads beyond 4096. */
export const FAST_FLOOR = -4096;
/** Below this t, exp(t) < 2^-(1.5e12): expDoubleDouble refuses (returns false). */
export const FAR_LIMIT = -(2 ** 40);

export const TABLE_BITS = 11;
const TABLE_SIZE = 1 << TABLE_BITS;
const INV_STEP = 2954.639443740597; // 2048 / ln 2, rounded
// ln2/2048 = C1 + C2 + C3 + δ, |δ| < 2^-154: C1 rounded to 29 significant bits, C2 and C3 the
// rounded remainders. Checked against a BigInt series for ln 2 in test/numeric/double-double-exp.test.ts.
export const STEP_C1 = 0.0003384507717782981;
export const STEP_C2 = -2.0512280628325608e-14;
export const STEP_C3 = -6.408544149309207e-31;
// 1/6 = S1 + S2 (+ < 2^-109 · 1/6)
const S1 = 0.16666666666666666;
const S2 = 9.25185853854297e-18;
const SPLITTER = 134217729; // 2^27 + 1, Veltkamp's
// C2 and S1 split in halves of 26 bits, so that their two-products with n or a float64 need no split.
const C2_HI = splitHigh(STEP_C2);
const C2_LO = STEP_C2 - C2_HI;
const S1_HI = splitHigh(S1);
const S1_LO = S1 - S1_HI;
const INV_24 = 1 / 24;
const INV_120 = 1 / 120;
const INV_720 = 1 / 720;
const INV_5040 = 1 / 5040;

function splitHigh(a: number): number {
  const t = SPLITTER * a;
  return t - (t - a);
}

/** 2^(j/2048) = TABLE_HI[j] + TABLE_LO[j], filled on first use (about two milliseconds). */
export const TABLE_HI = new Float64Array(TABLE_SIZE);
export const TABLE_LO = new Float64Array(TABLE_SIZE);
let tableReady = false;

/** Fixed-point precision of the table and of the far reduction. */
const FIXED_BITS = 256n;
let stepFixed = 0n; // ln2/2048 · 2^256, truncated

/** ln 2 · 2^bits, truncated (below by less than two units): Σ_{k≥1} 1/(k 2^k), a bit a term, ten guard bits. */
export function ln2Fixed(bits: bigint): bigint {
  let sum = 0n;
  const terms = bits + 20n;
  for (let k = 1n; k <= terms; k++) sum += ((1n << (bits + 10n)) / (k << k));
  return sum >> 10n;
}

function isqrt(value: bigint): bigint {
  // Newton's iteration from above.
  let x = 1n << BigInt(Math.ceil(value.toString(2).length / 2) + 1);
  for (;;) {
    const y = (x + value / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * Fills the table and the far reduction's constant; called by every entry point, once. The
 * bundle has them baked in (numeric/baked-tables.ts): the same numbers, without the 2 ms.
 */
export function prepareExp(): void {
  if (tableReady) return;
  const baked = BAKED_TABLES?.exp;
  if (baked !== undefined) {
    TABLE_HI.set(baked.hi);
    TABLE_LO.set(baked.lo);
    stepFixed = baked.stepFixed;
    tableReady = true;
    return;
  }
  const P = 192n;
  const one = 1n << P;
  // 2^(1/2048) from eleven square roots of 2 (each truncation loses under one unit of 2^-192, and
  // a square root halves the relative error before it), then its powers, each product truncated:
  // within 2048 · 3 units, 2^-179, of 2^(j/2048).
  let c = 2n << P;
  for (let i = 0; i < TABLE_BITS; i++) c = isqrt(c << P);
  let t = one;
  const scale = 2 ** -Number(P);
  for (let j = 0; j < TABLE_SIZE; j++) {
    const hi = Number(t) * scale; // Number() of a BigInt rounds to nearest
    const rest = t - BigInt(hi / scale);
    TABLE_HI[j] = hi;
    TABLE_LO[j] = Number(rest) * scale;
    t = (t * c) >> P;
  }
  stepFixed = ln2Fixed(FIXED_BITS) >> 11n;
  tableReady = true;
}

/** What prepareExp fills, for the bundle to have baked in (numeric/bake-tables.ts). */
export function expTableToBake(): BakedTables['exp'] {
  prepareExp();
  return { hi: Array.from(TABLE_HI), lo: Array.from(TABLE_LO), stepFixed };
}

/**
 * exp(hi + lo), for hi + lo ≤ 0, as 2^out[0] · (out[1] + out[2]) with the mantissa in
 * [0.9998, 2.0004] and relative error at most EXP_ERROR. Returns false, leaving `out` as it was,
 * when hi < FAR_LIMIT or is not a number: there exp(t) < 2^-(1.5e12).
 *
 * The same computation as `exponentials` (it is that function on the pair [−lo, hi]).
 */
export function expDoubleDouble(hi: number, lo: number, out: Float64Array): boolean {
  if (!(hi >= FAR_LIMIT)) return false;
  PAIR[0] = -lo;
  PAIR[1] = hi;
  if (!exponentials(PAIR, 0, PAIR_EXPONENTS, PAIR_HIGHS, PAIR_LOWS)) return false;
  out[0] = PAIR_EXPONENTS[1];
  out[1] = PAIR_HIGHS[1];
  out[2] = PAIR_LOWS[1];
  return true;
}

const PAIR = new Float64Array(2);
const PAIR_EXPONENTS = new Float64Array(2);
const PAIR_HIGHS = new Float64Array(2);
const PAIR_LOWS = new Float64Array(2);

/**
 * e_j = exp(x_j − x_p) = 2^exponents[j] · (highs[j] + lows[j]) for every j, x_j − x_p taken exactly
 * (two-sum) and at most 0 (x_p the largest x; no NaN or +Infinity among them): relative error at
 * most EXP_ERROR, exp(0) = 1 exactly. A masked x_j (−Infinity) gets exponents[j] = −Infinity, and
 * so does one with x_j − x_p below FAR_LIMIT, and then the function returns false.
 *
 * Only the elements from `start` to `end` (all by default). One loop with the exponential written
 * out in it: a function call per element costs a fifth of the time (V8 does not inline a function
 * this long).
 */
export function exponentials(
  x: Float64Array,
  p: number,
  exponents: Float64Array,
  highs: Float64Array,
  lows: Float64Array,
  start = 0,
  end = x.length,
): boolean {
  prepareExp();
  const xp = x[p];
  let all = true;
  for (let i = start; i < end; i++) {
    const xi = x[i];
    if (xi === -Infinity) {
      exponents[i] = -Infinity;
      continue;
    }
    const hi = xi - xp;
    const lo = twoSumLow(xi, -xp, hi);
    // t = n ln2/2048 + (rh + rl), n = 2048 k + j.
    let rh: number;
    let rl: number;
    let j: number;
    let k: number;
    if (hi >= FAST_FLOOR) {
      const n = Math.round(hi * INV_STEP);
      // hi − n·C1: n·C1 is exact (|n| < 2^24, C1 of 29 bits); the difference by two-sum.
      const nc1 = n * STEP_C1;
      const a = hi - nc1;
      const aLow = twoSumLow(hi, -nc1, a);
      // n·C2 = p + pLow exactly (Dekker's product; n needs no split, having at most 24 bits).
      const p = n * STEP_C2;
      const pLow = n * C2_HI - p + n * C2_LO;
      const s = a - p;
      const sLow = twoSumLow(a, -p, s);
      const s2 = s + lo;
      const s2Low = twoSumLow(s, lo, s2);
      const low = s2Low + sLow + aLow - pLow - n * STEP_C3;
      rh = s2 + low;
      rl = twoSumLow(s2, low, rh);
      j = n & (TABLE_SIZE - 1);
      k = (n - j) / TABLE_SIZE;
    } else if (hi >= FAR_LIMIT) {
      farReduction(hi, lo, FAR);
      rh = FAR[0];
      rl = FAR[1];
      j = FAR[2];
      k = FAR[3];
    } else {
      exponents[i] = -Infinity;
      all = false;
      continue;
    }

    // exp(r) − 1 = p = r + r²/2 + r³/6 + f.
    // rh² = sq + sqL exactly.
    const sq = rh * rh;
    const rs = SPLITTER * rh;
    const rhh = rs - (rs - rh);
    const rhl = rh - rhh;
    const sqL = rhh * rhh - sq + 2 * rhh * rhl + rhl * rhl;
    // r²/2 = half + halfL
    const half = 0.5 * sq;
    const halfL = 0.5 * sqL + rh * rl;
    // rh³ = c + cL (+ sqL·rh), r³ = rh³ + 3 rh² rl
    const c = sq * rh;
    const cs = SPLITTER * sq;
    const ch = cs - (cs - sq);
    const cl = sq - ch;
    const cL = ch * rhh - c + ch * rhl + cl * rhh + cl * rhl;
    const cT = cL + sqL * rh + 3 * sq * rl;
    // r³/6 = q + qT, plus r⁴'s term in rl, rh³ rl / 6.
    const q = c * S1;
    const qs = SPLITTER * c;
    const qh = qs - (qs - c);
    const ql = c - qh;
    const qL = qh * S1_HI - q + qh * S1_LO + ql * S1_HI + ql * S1_LO;
    const qT = qL + c * S2 + (cT + c * rl) * S1;
    // r⁴/24 (1 + r/5 + r²/30 + r³/210), below 2^-54.6.
    const f = sq * sq * (INV_24 + rh * (INV_120 + rh * (INV_720 + rh * INV_5040)));
    const a1 = rh + half;
    const a1L = twoSumLow(rh, half, a1);
    const a2 = a1 + q;
    const a2L = twoSumLow(a1, q, a2);
    const pLow = rl + a1L + a2L + halfL + qT + f;
    const ph = a2 + pLow;
    const pl = pLow - (ph - a2);

    // m = T (1 + p), T = 2^(j/2048)
    const th = TABLE_HI[j];
    const tl = TABLE_LO[j];
    const P = th * ph;
    const ts = SPLITTER * th;
    const thh = ts - (ts - th);
    const thl = th - thh;
    const ps = SPLITTER * ph;
    const phh = ps - (ps - ph);
    const phl = ph - phh;
    const PL = thh * phh - P + thh * phl + thl * phh + thl * phl;
    const S = th + P;
    const SL = twoSumLow(th, P, S);
    const mLow = PL + (th * pl + tl * ph) + tl + SL;
    const mh = S + mLow;
    exponents[i] = k;
    highs[i] = mh;
    lows[i] = mLow - (mh - S);
  }
  return all;
}

const FAR = new Float64Array(4);

/**
 * Beyond FAST_FLOOR: n and r = t − n ln2/2048 in BigInt fixed point, exactly up to 2^-256, into
 * out = [rh, rl, j, k].
 */
function farReduction(hi: number, lo: number, out: Float64Array): void {
  const scale = 2 ** 256;
  // hi is a multiple of 2^-40 (|hi| > 4096), so hi · 2^256 is an integer; lo is rounded to 2^-256.
  const t = BigInt(hi * scale) + BigInt(Math.round(lo * scale));
  // n = round(t / step): a truncating division, then corrected.
  const half = stepFixed >> 1n;
  let n = (t - half) / stepFixed;
  let r = t - n * stepFixed;
  while (r > half) {
    n += 1n;
    r -= stepFixed;
  }
  while (r < -half) {
    n -= 1n;
    r += stepFixed;
  }
  const rh = Number(r) / scale;
  const j = ((n % 2048n) + 2048n) % 2048n;
  out[0] = rh;
  out[1] = Number(r - BigInt(rh * scale)) / scale;
  out[2] = Number(j);
  out[3] = Number((n - j) / 2048n);
}

/** The rounding error of s = a + b (Knuth's two-sum). */
function twoSumLow(a: number, b: number, s: number): number {
  const v = s - a;
  return a - (s - v) + (b - v);
}
