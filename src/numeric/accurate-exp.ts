import { BAKED_TABLES, type BakedTables } from './baked-tables.js';
import { dd, expScaled, mul, mulNumber, scale, type DD } from './double-double.js';
import { twoProdError, twoSumError } from './error-free.js';

/**
 * exp(t) for a non-positive double-double argument t = hi + lo, as 2^k · (mHi + mLo), relative
 * error below 2^-88 (about 27 digits), about ten times cheaper than the reference's series.
 *
 * Why not Math.exp: its result carries up to an ulp of error of its own, and in
 * g_i − ⟨s, g⟩ = Σ_j s_j (g_i − g_j) those errors are multiplied by the cancellation
 * κ = Σ_j s_j |g_i − g_j| / |g_i − ⟨s, g⟩|: tens of ulps where g_i is near the weighted mean of g.
 * With exponentials good to 2^-88, κ must pass 2^30 before the gradient loses an ulp.
 *
 * Method (Tang's table-driven exp, in double-double): t = N ln2/2048 + r with |r| ≤ ln2/4096,
 * then exp(t) = 2^⌊N/2048⌋ · 2^((N mod 2048)/2048) · exp(r). The 2,048 table values come from the
 * double-double series of `double-double.ts`, each on first use; exp(r) = 1 + r + r²/2 + (the
 * rest) with r and r²/2 in double-double and the rest (below 2^-39) in float64.
 */
export interface ScaledExp {
  k: number;
  hi: number;
  lo: number;
}

/** Below this the exponential is under 2^-2300: a weight that cannot reach any float64 result. */
export const EXP_ARGUMENT_FLOOR = -1600;

const TABLE_BITS = 11;
const TABLE_SIZE = 2 ** TABLE_BITS;
const INVERSE_STEP = 2954.639443740597; // 2048 / ln 2
// ln2/2048 in three parts: the first has 30 significant bits, so N times it is exact for
// |N| < 2^23 (|t| ≤ 1600 gives |N| ≤ 4.8e6); N times the second is taken exactly by two-product.
// Computed with mpmath at 400 bits.
const STEP_HI = 0.0003384507713235507;
const STEP_MID = 4.3423507025813853e-13;
const STEP_LO = -1.9573516140235204e-29;

// 2^(i/2048) for i < 2048, as 2^(a/64) · 2^(b/2048) with i = 32a + b, each factor from one
// series evaluation; entries are made when first used (NaN until then), so that a run on a few
// logits evaluates a few series, not all 96 (which took 9 ms, most of the built-in example's run).
// The bundle has the 96 factors baked in (numeric/baked-tables.ts): the same numbers, no series.
const tableHi = new Float64Array(TABLE_SIZE).fill(NaN);
const tableLo = new Float64Array(TABLE_SIZE);
const COARSE = 64;
const FINE = 32;
const coarse: (DD | undefined)[] = new Array(COARSE);
const fine: (DD | undefined)[] = new Array(FINE);
const LN2 = dd(6.931471805599452862e-1, 2.319046813846299558e-17);

function powerOfTwo(fraction: number): DD {
  const { k, m } = expScaled(mulNumber(LN2, fraction));
  return scale(m, k);
}

/** 2^(j/count), from the baked pairs when the bundle has them. */
function factor(baked: ArrayLike<number> | undefined, j: number, count: number): DD {
  return baked === undefined ? powerOfTwo(j / count) : dd(baked[2 * j], baked[2 * j + 1]);
}

function makeEntry(i: number): void {
  const a = i >> 5;
  const b = i & 31;
  const baked = BAKED_TABLES?.powersOfTwo;
  const v = mul((coarse[a] ??= factor(baked?.coarse, a, COARSE)), (fine[b] ??= factor(baked?.fine, b, TABLE_SIZE)));
  tableHi[i] = v.hi;
  tableLo[i] = v.lo;
}

/** The 96 factors, as makeEntry computes them, for the bundle to have baked in (numeric/bake-tables.ts). */
export function powersOfTwoToBake(): BakedTables['powersOfTwo'] {
  const pairs = (count: number, denominator: number): number[] =>
    Array.from({ length: count }, (_, j) => powerOfTwo(j / denominator)).flatMap(({ hi, lo }) => [hi, lo]);
  return { coarse: pairs(COARSE, COARSE), fine: pairs(FINE, TABLE_SIZE) };
}

/**
 * Writes exp(hi + lo) into `out` as 2^k · (hi + lo), the mantissa within 2^-12 of [1, 2), and returns it;
 * 0 (k = 0) below EXP_ARGUMENT_FLOOR, NaN for NaN. |lo| may be as large as ulp(hi) / 2.
 */
export function accurateExp(hi: number, lo: number, out: ScaledExp): ScaledExp {
  if (!(hi >= EXP_ARGUMENT_FLOOR)) {
    out.k = 0;
    out.hi = Number.isNaN(hi) ? NaN : 0;
    out.lo = 0;
    return out;
  }
  const n = Math.round(hi * INVERSE_STEP);
  // hi − n·STEP_HI is exact (n·STEP_HI is, and lies within a factor of two of hi: Sterbenz).
  const a = hi - n * STEP_HI;
  const p = n * STEP_MID;
  const pLow = twoProdError(n, STEP_MID, p);
  const s = a - p;
  const rLow = twoSumError(a, -p, s) - pLow - n * STEP_LO + lo;
  const rh = s + rLow;
  const rl = twoSumError(s, rLow, rh);

  // exp(r) − 1 = r + r²/2 + tail; |r| ≤ 1.7e-4, so the tail is below 8.2e-13 and float64 does
  // for it (its error under 2^-91), and the first omitted term, r^8/8!, is below 2^-120.
  const square = rh * rh;
  const squareLow = twoProdError(rh, rh, square);
  const tail = square * rh * (1 / 6 + rh * (1 / 24 + rh * (1 / 120 + rh * (1 / 720 + rh / 5040))));
  const head = rh + square / 2;
  const headLow = twoSumError(rh, square / 2, head) + rl + squareLow / 2 + rh * rl + tail;
  const small = head + headLow;
  const smallLow = twoSumError(head, headLow, small);

  // 2^(i/2048) · (1 + small) = T + T·small.
  const i = n & (TABLE_SIZE - 1);
  if (tableHi[i] !== tableHi[i]) makeEntry(i);
  const th = tableHi[i];
  const tl = tableLo[i];
  const product = th * small;
  const productLow = twoProdError(th, small, product) + th * smallLow + tl * small;
  const sum = th + product;
  const sumLow = twoSumError(th, product, sum) + tl + productLow;
  const mantissa = sum + sumLow;
  out.k = (n - i) / TABLE_SIZE;
  out.hi = mantissa;
  out.lo = twoSumError(sum, sumLow, mantissa);
  return out;
}
