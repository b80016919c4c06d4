import { add, dd, toNumberScaled } from '../../numeric/double-double.js';
import { EXP_ERROR, exponentials } from '../../numeric/double-double-exp.js';
import { ldexp } from '../../numeric/ldexp.js';
import { exactRationalSlice } from '../../reference/exact-rational.js';
import { exactZeroGradients } from '../../numeric/exact-zero-gradients.js';

/**
 * Reference softmax and gradient of one slice in double-double (about 32 significant digits),
 * each result rounded to the nearest float64, with the pivot formulas of `reference-slice.ts`.
 *
 * `x_j − max` is exact as a double-double, and each `e_j = exp(x_j − max)` is kept as `2^k · m`
 * (`numeric/double-double-exp.ts`), so that probabilities far below the float64 range keep full
 * precision until their final (subnormal-aware) rounding; the terms of the gradient are formed at
 * a scale near 1.
 *
 * Each result carries a rigorous error bound (derived below), and the function returns false when
 * some result lies so close to a rounding midpoint that the bound does not decide it (odds of
 * about 2^-40 per result for data without structure, more where g nearly cancels): the caller
 * then asks the BigNumber engine, which can raise its precision until it does.
 *
 * Passes: the special cases (one over x, one over g); the exponentials; E = 1 + Σ_{j≠p} e_j with
 * D's scale; D = Σ_{j≠p} e_j (g_j − g_p); then each result. The gradient is taken as
 *   dx_i = s_i ((g_i − g_p) − D/E),   s_i = e_i / E,
 * the pivot form of reference-slice.ts divided through by E: D/E is formed once, and each
 * gradient costs one subtraction and one product beside its probability. Nothing is allocated per
 * element: double-double operations are written out on local variables, per-element state lives
 * in Float64Arrays kept between calls, 1/E is one reciprocal per slice, and a rounding is decided
 * by comparing the error bound with the distance to the rounding midpoint in float64 arithmetic.
 *
 * Error analysis. u = 2^-53; every float64 operation rounds to nearest, so fl(a ∘ b) = (a ∘ b)(1 + δ)
 * with |δ| ≤ u away from underflow (underflow is covered by absolute terms of 2^-1068 and less,
 * against quantities formed near 1). A double-double (h, l) has |l| ≤ ulp(h)/2 ≤ u|h|. The
 * operations used, and their bounds:
 * - MUL, (xh, xl)(yh, yl) as two-product of the highs plus RN(RN(xh yl) + RN(xl yh)) added to
 *   the product's error, then fast-two-sum: the two cross products err by u² |xh yh| each, their
 *   sum by 2u², adding that to the two-product's error (|sum| ≤ 3u |xh yh|) by 3u², and xl yl
 *   (≤ u² |xh yh|) is dropped: ≤ 8u² |xh yh| (1 + 3u) ≤ 8u² (1 + 5u) |xy|.
 * - ADD (QD's accurate addition: two two-sums, two fast-two-sums): RN(se + th) errs by at most
 *   u(u|sh| + u(|xh| + |yh|)(1 + u)) ≤ 2u²(|xh| + |yh|)(1 + u), RN(te + vl) by u²(|xh| + |yh|)(1 + 4u):
 *   ≤ 3u² (1 + 5u)(|x| + |y|), whatever the signs.
 * - Adding two non-negative double-doubles with one two-sum (RN(RN(xl + yl) + e), fast-two-sum):
 *   u²(xh + yh) + 2u²(xh + yh)(1 + 2u) ≤ 3u² (1 + 3u)(x + y).
 * - RECIPROCAL, 1/E by three quotient digits with exact remainders (see reciprocal): ≤ u² (1 + 2^-40).
 * - exp, EXP_ERROR = 2^-102 (derived in double-double-exp.ts).
 * Products of (1 + ε) factors are bounded by sums with a factor (1 + 2^-40) for the second-order
 * terms (every ε here is below 2^-80).
 */
export function doubleDoubleReferenceSlice(x: Float64Array, g: Float64Array, softmax: Float64Array, grad: Float64Array): boolean {
  const n = x.length;
  // The special cases of reference-slice.ts (undefinedSlice, isRationalSlice, pivotIndex, with
  // their meanings) in one pass over x; one over g: whether the gradient is defined (every g
  // finite), and its largest magnitude. Each pass runs in chunks (see chunkEnd).
  SCAN[NO_SOFTMAX] = 0;
  SCAN[MASKED] = 0;
  SCAN[PIVOT] = 0;
  SCAN[FIRST] = NaN;
  SCAN[RATIONAL] = 1;
  SCAN[G_FINITE] = 1;
  SCAN[G_LARGEST] = 0;
  for (let start = 0, end = 0; start < n; start = end) {
    end = chunkEnd(start, n);
    scanLogits(x, start, end);
  }
  if (SCAN[NO_SOFTMAX] === 1 || SCAN[MASKED] === n) {
    softmax.fill(NaN);
    grad.fill(NaN);
    return true;
  }
  for (let start = 0, end = 0; start < n; start = end) {
    end = chunkEnd(start, n);
    scanGradient(g, start, end);
  }
  const p = SCAN[PIVOT];
  const gFinite = SCAN[G_FINITE] === 1;
  const gLargest = SCAN[G_LARGEST];
  if (!gFinite) grad.fill(NaN);
  else if (SCAN[RATIONAL] === 1) {
    exactRationalSlice(x, g, softmax, grad);
    return true;
  }
  reserve(n);
  let certain = true;
  let far = false;

  // Only g beyond half the float64 range is halved, so that g_j − g_p cannot overflow (nor the
  // two-sum's intermediates). Halving is exact but for a subnormal g with its last bit set: it
  // rounds by 2^-1075, so an offset g_j − g_p (halved) with such a g_j or g_p, and g_j ≠ g_p, is
  // off by at most 2^-1074, and D/E = Σ_{j≠p} e_j (g_j − g_p) / E by at most 2^-1074 Σ e_j over
  // those j, ≤ n 2^(K − 1072) with K their largest k_j: see results.
  const gScale = gFinite && gLargest > 2 ** 1022 ? -1 : 0;
  const gFactor = 2 ** gScale;
  let gRounding = false;
  if (gScale !== 0) {
    for (let i = 0; i < n; i++) if (halvingRounds(g[i])) gRounding = true;
  }

  // Each pass runs in chunks (chunkEnd), its function called once a chunk: V8 then optimises it
  // after a few calls, with feedback from every path, rather than compiling its loop in the middle
  // of the first call and deoptimising at the first line after the loop, then compiling it again
  // in the next call. Only the first call pays for compiling (on 10^6 elements, about twice the
  // time of the later ones); the second no longer does.
  // e_j = 2^k_j m_j (masked: k_j = −∞).
  for (let start = 0, end = 0; start < n; start = end) {
    end = chunkEnd(start, n);
    // Some x_j − max below FAR_LIMIT (or −Infinity by overflow: a torch.finfo(dtype).min mask)
    // leaves its k_j at −∞: its weight is below 2^(FAR_LIMIT/ln 2), so it moves neither sum
    // beyond the absolute terms they already carry, and its own results come from signs (results).
    if (!exponentials(x, p, EXPONENTS, HIGHS, LOWS, start, end)) far = true;
  }
  STATE[TOTAL_HI] = 1; // e_p = exp(0) = 1 exactly
  STATE[TOTAL_LO] = 0;
  STATE[LARGEST_TERM] = -Infinity;
  STATE[LARGEST_PRODUCT] = 0;
  for (let start = 0, end = 0; start < n; start = end) {
    end = chunkEnd(start, n);
    sumExponentials(start, end, p, g, gFinite, gFactor);
  }
  if (gFinite) findLargestTerm(n, p, g, gFactor);
  const totalHi = STATE[TOTAL_HI];
  const totalLo = STATE[TOTAL_LO];
  // |Ẽ − E| ≤ totalError · E: the exponentials' errors, the sums' (see sumExponentials), and the
  // terms left out or rounded in the subnormals (below 2^-1073 each, against E ≥ 1).
  const sumCount = Math.min(n, BLOCK) - 1 + Math.ceil(n / BLOCK);
  const totalError = (EXP_ERROR + 3 * U2 * sumCount) * (1 + 2 ** -40) + n * 2 ** -1073;

  // s_i = m_i ⊗ R at 2^k_i, R = 1/Ẽ: |s̃ − s| ≤ (EXP + RECIPROCAL + totalError + MUL)(1 + 2^-40) s,
  // and the same relative to s̃ (the factor covers the difference). The pivot's m = 1 has no exp
  // error, and 1 ⊗ R is exact.
  reciprocal(totalHi, totalLo);
  const softmaxError = (EXP_ERROR + RECIPROCAL_ERROR + totalError + MUL_ERROR) * (1 + 2 ** -40);
  const pivotSoftmaxError = (RECIPROCAL_ERROR + totalError) * (1 + 2 ** -40);
  if (!gFinite) {
    for (let start = 0, end = 0; start < n; start = end) {
      end = chunkEnd(start, n);
      if (!softmaxOnly(start, end, p, softmax, softmaxError, pivotSoftmaxError)) certain = false;
    }
    return certain;
  }

  // D · 2^-L, L = max_j (k_j + ⌊log2 |g_j − g_p|⌋), and M = Σ |terms| (see spread):
  //   |D̃ − D| ≤ spreadError · M + n 2^-1069 (at that scale).
  const largestTerm = STATE[LARGEST_TERM];
  // A far weight is below 2^(-1.58e12) and its offset below 2^1025: beneath D's absolute error
  // n 2^-1069 at the scale 2^-L unless L itself is that small (spreads beyond 10^12).
  if (far && largestTerm !== -Infinity && largestTerm < FAR_TERM_EXPONENT) certain = false;
  const spreadScale = largestTerm === -Infinity ? 0 : -largestTerm;
  STATE[SPREAD_HI] = 0;
  STATE[SPREAD_LO] = 0;
  STATE[SPREAD_MAGNITUDE] = 0;
  for (let start = 0, end = 0; start < n; start = end) {
    end = chunkEnd(start, n);
    spread(start, end, p, g, gFactor, spreadScale);
  }
  const spreadError = (EXP_ERROR + MUL_ERROR + 3 * U2 * sumCount) * (1 + 2 ** -40);

  // D/E as D̃ ⊗ R. Each N'_i = (g_i − g_p) − D/E is formed at the scale of D, 2^c with c = −L
  // (or, where the offset would exceed 2^600 there, at the offset's own, c = −⌊log2 |g_i − g_p|⌋):
  // y = (g_i − g_p) 2^c exactly (or within 2^-1074 per part in the subnormals),
  // b = (D̃ ⊗ R) 2^(c + L), Ñ' = y − b by ADD. With
  //   |D̃ ⊗ R − D/E| ≤ (RECIPROCAL + totalError + MUL)(1 + 2^-40) |D̃|/E + (spreadError M + n 2^-1069)/E,
  // |D̃| ≤ M (1 + 2^-60) and ADD's 3u² (|y| + |b|):
  //   |Ñ' − N'| ≤ numeratorError (|y| + 2^(c + L) M/E) + (n + 8) 2^-1068,
  // with M/E bounded by M̃ R̃ (1 + (n + 2) 2^-52)(1 + 2^-40) (M̃ is summed in float64), the last
  // factor inside numeratorError's 1 + 2^-30.
  const numeratorError = (RECIPROCAL_ERROR + totalError + spreadError + MUL_ERROR + ADD_ERROR) * (1 + 2 ** -30);
  // dx_i = s̃_i ⊗ Ñ'_i: with η = bound(Ñ')/|Ñ'| ≤ 1/4 (else the slice is uncertain anyway),
  // z/ṽ = (N'/Ñ') / ((1 + σ)(1 + μ)), σ the probability's error and μ the product's, so
  // |z − ṽ| ≤ η|ṽ| + 1.26 (softmaxError + MUL) |ṽ|.
  const gradientError = 1.26 * (softmaxError + MUL_ERROR) * (1 + 2 ** -40);
  const pivotGradientError = 1.26 * (pivotSoftmaxError + MUL_ERROR) * (1 + 2 ** -40);
  prepareResults(n, p, g, gRounding, 1 + (n + 2) * 2 ** -52);
  for (let start = 0, end = 0; start < n; start = end) {
    end = chunkEnd(start, n);
    const chunkCertain = results(
      start, end, x, g, softmax, grad, p, gScale, gFactor, gRounding, spreadScale, far,
      numeratorError, (n + 8) * 2 ** -1068, softmaxError, pivotSoftmaxError, gradientError, pivotGradientError,
    );
    if (!chunkCertain) certain = false;
  }
  return certain;
}

const U2 = 2 ** -106; // u²
/** Above every far weight's binary exponent (FAR_LIMIT / ln 2 ≈ -1.5863e12), with a margin of 6e9. */
const FAR_TERM_EXPONENT = -1.58e12;
const MUL_ERROR = 8 * U2 * (1 + 2 ** -50);
const ADD_ERROR = 3 * U2 * (1 + 2 ** -50);
const RECIPROCAL_ERROR = U2 * (1 + 2 ** -40);
const SPLITTER = 134217729; // 2^27 + 1
/** Terms per block of the sums of E and D: the error bound grows with B − 1 + n/B, not n. */
const BLOCK = 1024;
// The scans' findings: whether some x is NaN or +Infinity, how many are masked, the pivot (the
// first largest x), the first unmasked x and whether every unmasked x equals it; whether every g
// is finite, and the largest |g|.
const SCAN = new Float64Array(7);
const NO_SOFTMAX = 0;
const MASKED = 1;
const PIVOT = 2;
const FIRST = 3;
const RATIONAL = 4;
const G_FINITE = 5;
const G_LARGEST = 6;

function scanLogits(x: Float64Array, from: number, to: number): void {
  let noSoftmax = SCAN[NO_SOFTMAX];
  let masked = SCAN[MASKED];
  let p = SCAN[PIVOT];
  let first = SCAN[FIRST];
  let rational = SCAN[RATIONAL];
  for (let j = from; j < to; j++) {
    const v = x[j];
    if (v !== v || v === Infinity) noSoftmax = 1;
    else if (v === -Infinity) masked++;
    else if (first !== first) first = v;
    else if (v !== first) rational = 0;
    if (v > x[p]) p = j;
  }
  SCAN[NO_SOFTMAX] = noSoftmax;
  SCAN[MASKED] = masked;
  SCAN[PIVOT] = p;
  SCAN[FIRST] = first;
  SCAN[RATIONAL] = rational;
}

function scanGradient(g: Float64Array, from: number, to: number): void {
  let finite = SCAN[G_FINITE];
  let largest = SCAN[G_LARGEST];
  for (let i = from; i < to; i++) {
    const a = Math.abs(g[i]);
    if (!(a <= Number.MAX_VALUE)) finite = 0;
    else if (a > largest) largest = a;
  }
  SCAN[G_FINITE] = finite;
  SCAN[G_LARGEST] = largest;
}

/** Elements per call of a pass's function: a whole number of blocks. */
const CHUNK = 16 * BLOCK;

/**
 * Where the chunk from `start` ends: the first is one block, so that the first call of each pass
 * returns soon and V8 has seen every line of it before it optimises it; then CHUNK elements.
 */
function chunkEnd(start: number, n: number): number {
  return Math.min(n, start === 0 ? BLOCK : start + CHUNK);
}

/** 2^k for -1074 ≤ k ≤ 1023, at k + POWER_OFFSET: exact scalings without Math.pow. */
const POWER_OFFSET = 1074;
const POWERS = Float64Array.from({ length: 1074 + 1024 }, (_, i) => 2 ** (i - POWER_OFFSET));

// Per-element state, kept between calls and grown as needed: k_j, and m_j = hi + lo.
let EXPONENTS = new Float64Array(0);
let HIGHS = new Float64Array(0);
let LOWS = new Float64Array(0);

function reserve(n: number): void {
  if (EXPONENTS.length >= n) return;
  const size = Math.max(n, 2 * EXPONENTS.length);
  EXPONENTS = new Float64Array(size);
  HIGHS = new Float64Array(size);
  LOWS = new Float64Array(size);
}

// Per-slice results of the passes (accumulated chunk by chunk), and the reciprocal's.
const STATE = new Float64Array(16);
const TOTAL_HI = 0;
const TOTAL_LO = 1;
const LARGEST_TERM = 2;
const LARGEST_PRODUCT = 3;
const SPREAD_HI = 4;
const SPREAD_LO = 5;
const SPREAD_MAGNITUDE = 6;
const RATIO_HI = 7;
const RATIO_LO = 8;
const RATIO_MAGNITUDE = 9;
const SPREAD_FACTOR = 10;
const LARGEST_ROUNDING_EXPONENT = 11;
const RECIPROCAL = new Float64Array(2);
// Which gradients are exactly 0 (exactZeroGradients), asked for at most once a slice: null until then.
let zeros: Uint8Array | undefined | null = null;

/**
 * E = 1 + Σ_{j≠p} e_j, and L = max_j (k_j + ⌊log2 |g_j − g_p|⌋), the binary exponent of D's largest
 * term within a factor 4 (−∞ if there is none), accumulated in STATE over elements start..end.
 *
 * E is summed in blocks of BLOCK terms, then the blocks: every term is positive, and each
 * addition errs by at most 3u² (1 + 3u) times its result, a partial sum of its block or of E, so
 * |Ẽ − Σ ẽ| ≤ 3u² (B − 1 + blocks)(1 + 2^-50) Σ ẽ. Terms below 2^-1073 (k < -1074) are left out.
 * L comes from the largest |g_j − g_p| 2^k_j, exact where it is a normal float64, and from the
 * exponents themselves for k_j < -1022 (and for all, in findLargestTerm, where every product is tiny).
 */
function sumExponentials(from: number, to: number, p: number, g: Float64Array, gFinite: boolean, gFactor: number): void {
  const exponents = EXPONENTS;
  const highs = HIGHS;
  const lows = LOWS;
  const gp = g[p] * gFactor;
  let totalHi = STATE[TOTAL_HI];
  let totalLo = STATE[TOTAL_LO];
  let largestTerm = STATE[LARGEST_TERM];
  let largestProduct = STATE[LARGEST_PRODUCT];
  for (let start = from; start < to; start += BLOCK) {
    const end = Math.min(to, start + BLOCK);
    let blockHi = 0;
    let blockLo = 0;
    for (let j = start; j < end; j++) {
      const k = exponents[j];
      if (j === p || k === -Infinity) continue;
      if (k >= -1074) {
        const f = POWERS[k + POWER_OFFSET];
        const eh = highs[j] * f;
        const el = lows[j] * f;
        // (blockHi, blockLo) += (eh, el), both non-negative.
        const s = blockHi + eh;
        const t = blockLo + el + twoSumLow(blockHi, eh, s);
        blockHi = s + t;
        blockLo = t - (blockHi - s);
      }
      if (gFinite) {
        const offset = g[j] * gFactor - gp;
        if (offset !== 0) {
          if (k >= -1022) {
            const product = Math.abs(offset) * POWERS[k + POWER_OFFSET];
            if (product > largestProduct) largestProduct = product;
          } else {
            const e = k + binaryExponent(offset);
            if (e > largestTerm) largestTerm = e;
          }
        }
      }
    }
    const s = totalHi + blockHi;
    const t = totalLo + blockLo + twoSumLow(totalHi, blockHi, s);
    totalHi = s + t;
    totalLo = t - (totalHi - s);
  }
  STATE[TOTAL_HI] = totalHi;
  STATE[TOTAL_LO] = totalLo;
  STATE[LARGEST_TERM] = largestTerm;
  STATE[LARGEST_PRODUCT] = largestProduct;
}

/** L from sumExponentials' findings, into STATE[LARGEST_TERM]. */
function findLargestTerm(n: number, p: number, g: Float64Array, gFactor: number): void {
  const largestProduct = STATE[LARGEST_PRODUCT];
  let largest = STATE[LARGEST_TERM];
  if (largestProduct >= 2 ** -1000) {
    // A product below the normal range rounds, but never below a power of two it reaches.
    largest = Math.max(largest, binaryExponent(largestProduct));
  } else {
    // Every normal-range term is tiny (or underflowed, or there is none): the exponents one by
    // one, exactly.
    const gp = g[p] * gFactor;
    for (let j = 0; j < n; j++) {
      if (j === p || EXPONENTS[j] === -Infinity) continue;
      const offset = g[j] * gFactor - gp;
      if (offset !== 0) largest = Math.max(largest, EXPONENTS[j] + binaryExponent(offset));
    }
  }
  STATE[LARGEST_TERM] = largest;
}

/**
 * D · 2^-L = Σ_{j≠p} m_j ((g_j − g_p) 2^(k_j − L)), with M̃ = Σ |terms| in float64, accumulated in
 * STATE over elements from..to.
 * Each term from an exact offset scaled exactly (rounded, in the subnormals, by at most 2^-1075
 * per part), times m_j by MUL, summed by ADD in blocks as E is. The largest term is in
 * [0.9998, 8.002), so M ≥ 0.9998, and |D̃ − D| ≤ (EXP + MUL + 3u² (B − 1 + blocks))(1 + 2^-40) M
 * + n 2^-1069 (terms below 2^-1077, scaled below 2^-1080, are left out).
 */
function spread(from: number, to: number, p: number, g: Float64Array, gFactor: number, spreadScale: number): void {
  const exponents = EXPONENTS;
  const highs = HIGHS;
  const lows = LOWS;
  const gp = g[p] * gFactor;
  let spreadHi = STATE[SPREAD_HI];
  let spreadLo = STATE[SPREAD_LO];
  let magnitude = STATE[SPREAD_MAGNITUDE];
  for (let start = from; start < to; start += BLOCK) {
    const end = Math.min(to, start + BLOCK);
    let blockHi = 0;
    let blockLo = 0;
    for (let j = start; j < end; j++) {
      const k = exponents[j];
      if (j === p || k === -Infinity) continue;
      const gj = g[j] * gFactor;
      const oh = gj - gp;
      if (oh === 0) continue;
      const ol = twoSumLow(gj, -gp, oh);
      // (oh, ol) 2^shift, at most 2 in magnitude.
      const shift = k + spreadScale;
      let yh: number;
      let yl: number;
      if (shift >= -1074 && shift <= 1023) {
        const f = POWERS[shift + POWER_OFFSET];
        yh = oh * f;
        yl = ol * f;
      } else {
        if (shift + binaryExponent(oh) < -1080) continue;
        yh = ldexp(oh, shift);
        yl = ldexp(ol, shift);
      }
      // term = m_j ⊗ (yh, yl), by MUL
      const xh = highs[j];
      const ph = xh * yh;
      const xs = SPLITTER * xh;
      const xhh = xs - (xs - xh);
      const xhl = xh - xhh;
      const ys = SPLITTER * yh;
      const yhh = ys - (ys - yh);
      const yhl = yh - yhh;
      const pe = xhh * yhh - ph + xhh * yhl + xhl * yhh + xhl * yhl;
      const c = pe + (xh * yl + lows[j] * yh);
      const termHi = ph + c;
      const termLo = c - (termHi - ph);
      magnitude += Math.abs(termHi);
      // (blockHi, blockLo) += term, by ADD
      const sh = blockHi + termHi;
      const se = twoSumLow(blockHi, termHi, sh);
      const th = blockLo + termLo;
      const te = twoSumLow(blockLo, termLo, th);
      const c1 = se + th;
      const vh = sh + c1;
      const vl = c1 - (vh - sh);
      const w = te + vl;
      blockHi = vh + w;
      blockLo = w - (blockHi - vh);
    }
    const sh = spreadHi + blockHi;
    const se = twoSumLow(spreadHi, blockHi, sh);
    const th = spreadLo + blockLo;
    const te = twoSumLow(spreadLo, blockLo, th);
    const c1 = se + th;
    const vh = sh + c1;
    const vl = c1 - (vh - sh);
    const w = te + vl;
    spreadHi = vh + w;
    spreadLo = w - (spreadHi - vh);
  }
  STATE[SPREAD_HI] = spreadHi;
  STATE[SPREAD_LO] = spreadLo;
  STATE[SPREAD_MAGNITUDE] = magnitude;
}

/** The probabilities alone (g not finite: the gradient stays NaN), given R in RECIPROCAL. */
function softmaxOnly(from: number, to: number, p: number, softmax: Float64Array, softmaxError: number, pivotSoftmaxError: number): boolean {
  const exponents = EXPONENTS;
  const highs = HIGHS;
  const lows = LOWS;
  const rh = RECIPROCAL[0];
  const rl = RECIPROCAL[1];
  const rs = SPLITTER * rh;
  const rhh = rs - (rs - rh);
  const rhl = rh - rhh;
  let certain = true;
  for (let i = from; i < to; i++) {
    const k = exponents[i];
    if (k === -Infinity) {
      softmax[i] = 0;
      continue;
    }
    // s̃ = m ⊗ R
    const mh = highs[i];
    const ph = mh * rh;
    const ms = SPLITTER * mh;
    const mhh = ms - (ms - mh);
    const mhl = mh - mhh;
    const pe = mhh * rhh - ph + mhh * rhl + mhl * rhh + mhl * rhl;
    const pc = pe + (mh * rl + lows[i] * rh);
    const sh = ph + pc;
    const slack = Math.abs(sh) * (i === p ? pivotSoftmaxError : softmaxError);
    if (!roundInto(softmax, i, sh, pc - (sh - ph), k, slack)) certain = false;
  }
  return certain;
}

/**
 * Per slice, before results: D/E = D̃ ⊗ R (at 2^-L) and M/E's bound, 2^-L, and where halving g
 * rounded (see doubleDoubleReferenceSlice) K, the largest exponent among the offsets it touched.
 */
function prepareResults(n: number, p: number, g: Float64Array, gRounding: boolean, magnitudeFactor: number): void {
  const rh = RECIPROCAL[0];
  const rl = RECIPROCAL[1];
  const rs = SPLITTER * rh;
  const rhh = rs - (rs - rh);
  const rhl = rh - rhh;
  const spreadHi = STATE[SPREAD_HI];
  const spreadLo = STATE[SPREAD_LO];
  const ds = SPLITTER * spreadHi;
  const dhh = ds - (ds - spreadHi);
  const dhl = spreadHi - dhh;
  const rp = spreadHi * rh;
  const rpe = dhh * rhh - rp + dhh * rhl + dhl * rhh + dhl * rhl;
  const rc = rpe + (spreadHi * rl + spreadLo * rh);
  const ratioHi = rp + rc;
  STATE[RATIO_HI] = ratioHi;
  STATE[RATIO_LO] = rc - (ratioHi - rp);
  STATE[RATIO_MAGNITUDE] = STATE[SPREAD_MAGNITUDE] * magnitudeFactor * rh;
  const spreadScale = STATE[LARGEST_TERM] === -Infinity ? 0 : -STATE[LARGEST_TERM];
  STATE[SPREAD_FACTOR] = spreadScale >= -1074 && spreadScale <= 1023 ? POWERS[spreadScale + POWER_OFFSET] : NaN;
  let largestExponent = -Infinity;
  if (gRounding) {
    const pivotRounds = halvingRounds(g[p]);
    for (let j = 0; j < n; j++) {
      if (g[j] !== g[p] && (pivotRounds || halvingRounds(g[j])) && EXPONENTS[j] > largestExponent) largestExponent = EXPONENTS[j];
    }
  }
  STATE[LARGEST_ROUNDING_EXPONENT] = largestExponent;
  zeros = null;
}

/**
 * Every probability and gradient of elements from..to (see doubleDoubleReferenceSlice for the
 * bounds), given R in RECIPROCAL and D/E in STATE.
 */
function results(
  from: number,
  to: number,
  x: Float64Array,
  g: Float64Array,
  softmax: Float64Array,
  grad: Float64Array,
  p: number,
  gScale: number,
  gFactor: number,
  gRounding: boolean,
  spreadScale: number,
  farSlice: boolean,
  numeratorError: number,
  numeratorAbsolute: number,
  softmaxError: number,
  pivotSoftmaxError: number,
  gradientError: number,
  pivotGradientError: number,
): boolean {
  const n = x.length;
  const exponents = EXPONENTS;
  const highs = HIGHS;
  const lows = LOWS;
  const rh = RECIPROCAL[0];
  const rl = RECIPROCAL[1];
  const rs = SPLITTER * rh;
  const rhh = rs - (rs - rh);
  const rhl = rh - rhh;
  const gp = g[p] * gFactor;
  const ratioHi = STATE[RATIO_HI];
  const ratioLo = STATE[RATIO_LO];
  const ratioMagnitude = STATE[RATIO_MAGNITUDE];
  const spreadFactor = STATE[SPREAD_FACTOR];
  // Where halving g rounded, N'_i is off by a further 2^-1074 (if its own offset rounded)
  // + n 2^(K − 1072), times 2^c.
  const pivotRounds = gRounding && halvingRounds(g[p]);
  const largestExponent = STATE[LARGEST_ROUNDING_EXPONENT];
  let certain = true;

  for (let i = from; i < to; i++) {
    const k = exponents[i];
    // A far logit (x_i − max below FAR_LIMIT, k = −∞ with x_i finite): s_i > 0 rounds to +0, and
    // dx_i = s_i N'_i to a zero of N'_i's sign, decided below as any N' is.
    const far = k === -Infinity;
    if (far && x[i] === -Infinity) {
      softmax[i] = 0;
      grad[i] = 0;
      continue;
    }
    let sh = 0;
    let sl = 0;
    if (far) softmax[i] = 0;
    else {
      // s̃ = m ⊗ R
      const mh = highs[i];
      const ph = mh * rh;
      const ms = SPLITTER * mh;
      const mhh = ms - (ms - mh);
      const mhl = mh - mhh;
      const pe = mhh * rhh - ph + mhh * rhl + mhl * rhh + mhl * rhl;
      const pc = pe + (mh * rl + lows[i] * rh);
      sh = ph + pc;
      sl = pc - (sh - ph);
      if (!roundInto(softmax, i, sh, sl, k, Math.abs(sh) * (i === p ? pivotSoftmaxError : softmaxError))) certain = false;
    }

    // y = (g_i − g_p) 2^c
    const gi = g[i] * gFactor;
    const oh = gi - gp;
    let scale = spreadScale;
    let yh = 0;
    let yl = 0;
    if (oh !== 0) {
      const ol = twoSumLow(gi, -gp, oh);
      yh = oh * spreadFactor;
      yl = ol * spreadFactor;
      if (!(Math.abs(yh) < 2 ** 600)) {
        scale = Math.min(spreadScale, -binaryExponent(oh));
        yh = ldexp(oh, scale);
        yl = ldexp(ol, scale);
      }
    }
    let absolute = numeratorAbsolute;
    if (gRounding) {
      const own = g[i] !== g[p] && (pivotRounds || halvingRounds(g[i]));
      absolute += (own ? ldexp(2 ** -1074, scale) : 0) + ldexp(n * 2 ** -1072, largestExponent + scale);
    }
    // b = (D̃ ⊗ R) 2^(c + L), c + L ≤ 0.
    let bh = ratioHi;
    let bl = ratioLo;
    let bMagnitude = ratioMagnitude;
    if (scale !== spreadScale) {
      const shift = scale - spreadScale;
      const f = shift >= -1074 ? POWERS[shift + POWER_OFFSET] : 0;
      bh *= f;
      bl *= f;
      bMagnitude *= f;
    }
    // Ñ' = y − b, by ADD
    const dh = yh - bh;
    const de = twoSumLow(yh, -bh, dh);
    const dl = yl - bl;
    const dle = twoSumLow(yl, -bl, dl);
    const c1 = de + dl;
    const vh = dh + c1;
    const vl = c1 - (vh - dh);
    const w = dle + vl;
    const nh = vh + w;
    const nl = w - (nh - vh);
    const bound = numeratorError * (Math.abs(yh) + bMagnitude) + absolute;
    if (!(Math.abs(nh) > 4 * bound)) {
      // Within rounding noise of 0: an exact 0 (exactZeroGradients decides exactly), or else a
      // value BigNumber, with more digits, decides.
      if (zeros === null) zeros = exactZeroGradients(x, g);
      if (zeros !== undefined && zeros[i] === 1) {
        grad[i] = 0;
        continue;
      }
      // Every offset beside the far weights is 0 (no D at all), and so is this one: far weights
      // count as 0 (the convention of reference-slice.ts), and so does N'_i.
      if (farSlice && oh === 0 && STATE[LARGEST_TERM] === -Infinity) {
        grad[i] = 0;
        continue;
      }
      certain = false;
    }
    if (far) {
      grad[i] = nh < 0 ? -0 : 0;
      continue;
    }
    // dx = s̃ ⊗ Ñ'
    const qh = sh * nh;
    const ss = SPLITTER * sh;
    const shh = ss - (ss - sh);
    const shl = sh - shh;
    const ns = SPLITTER * nh;
    const nhh = ns - (ns - nh);
    const nhl = nh - nhh;
    const qe = shh * nhh - qh + shh * nhl + shl * nhh + shl * nhl;
    const qc = qe + (sh * nl + sl * nh);
    const valueHi = qh + qc;
    const valueLo = qc - (valueHi - qh);
    // η|ṽ| = bound |ṽ|/|Ñ'| ≤ bound |s̃| (1 + MUL) ≤ bound |sh| (1 + 2^-50).
    const slack = Math.abs(sh) * bound * (1 + 2 ** -50) + Math.abs(valueHi) * (i === p ? pivotGradientError : gradientError);
    if (!roundInto(grad, i, valueHi, valueLo, k - gScale - scale, slack)) certain = false;
  }
  return certain;
}

/**
 * 1/(eh + el), eh ≥ 1, into RECIPROCAL, by long division with three quotient digits, each
 * remainder exact (two-products, two-sums; 1 − P and c − Q by Sterbenz's lemma):
 * q1 = RN(1/eh) is within 2.01u/E of 1/E, so the first remainder r1 = 1 − E q1 is below 2.01u,
 * formed exactly as c + ct up to roundings of 2^-150; q2 = RN(c q1), and the second remainder
 * r2 = r1 − E q2 is below 14.1u² (|ct| ≤ 8u², r1² and the rounding of q2); q3 = RN(r2 q1) is
 * within 43u³/E of r2/E. The sum q1 + q2 + q3 is normalised with one rounding of
 * RN(q2's error + q3), ≤ u²(1 + 16u) |q1|: altogether |R − 1/E| ≤ u²(1 + 2^-40)/E.
 */
function reciprocal(eh: number, el: number): void {
  const q1 = 1 / eh;
  const qs = SPLITTER * q1;
  const q1h = qs - (qs - q1);
  const q1l = q1 - q1h;
  const es = SPLITTER * eh;
  const ehh = es - (es - eh);
  const ehl = eh - ehh;
  const P = eh * q1;
  const PL = ehh * q1h - P + ehh * q1l + ehl * q1h + ehl * q1l;
  const F = el * q1;
  const fs = SPLITTER * el;
  const elh = fs - (fs - el);
  const ell = el - elh;
  const FL = elh * q1h - F + elh * q1l + ell * q1h + ell * q1l;
  const a = 1 - P;
  const b = a - PL;
  const bL = twoSumLow(a, -PL, b);
  const c = b - F;
  const cL = twoSumLow(b, -F, c);
  const ct = bL + cL - FL;
  const q2 = c * q1;
  const Q = eh * q2;
  const q2s = SPLITTER * q2;
  const q2h = q2s - (q2s - q2);
  const q2l = q2 - q2h;
  const QL = ehh * q2h - Q + ehh * q2l + ehl * q2h + ehl * q2l;
  const r2 = c - Q + ct - QL - el * q2;
  const q3 = r2 * q1;
  const s = q1 + q2;
  const sL = q2 - (s - q1);
  const t = sL + q3;
  const h = s + t;
  RECIPROCAL[0] = h;
  RECIPROCAL[1] = t - (h - s);
}

/**
 * out[i] = the float64 nearest to 2^k (vh + vl); returns whether every value within `slack` of
 * vh + vl (an absolute bound, before the scaling by 2^k) rounds to that same float64.
 *
 * Where 2^k vh is a normal float64 (with a binade to spare) the rounding is vh's own, scaled, and
 * decided in float64: with δ = slack (1 + 2^-40) + 2^-105 |vh| (as computed, ≥ (slack + u²|vh|)(1 + 2u)),
 * RN(vl ± δ) is within u(|vl| + δ) ≤ u²|vh| + uδ of vl ± δ, so [vl − slack, vl + slack] lies
 * between them; RN(vh + w) is monotone in w, so if both ends round to vh, every value in between
 * does. Elsewhere (subnormal or zero results, exponents beyond the table) the general path.
 * A relative error bound ε of the caller's becomes slack = ε |vh| with ε carrying a factor
 * (1 + 2^-40), which covers |vh + vl| ≤ |vh| (1 + u).
 */
function roundInto(out: Float64Array, i: number, vh: number, vl: number, k: number, slack: number): boolean {
  if (k >= -1022 && k <= 1023) {
    const magnitude = Math.abs(vh);
    const r = vh * POWERS[k + POWER_OFFSET];
    const a = Math.abs(r);
    if (a >= 2 ** -1021 && a < 2 ** 1022 && magnitude >= 2 ** -900 && magnitude < 2 ** 900) {
      out[i] = r;
      const d = slack * (1 + 2 ** -40) + magnitude * 2 ** -105;
      return vh + (vl + d) === vh && vh + (vl - d) === vh;
    }
  }
  return roundIntoSlowly(out, i, vh, vl, k, slack);
}

/**
 * roundInto for results below the normal range (or far above 1 before scaling): toNumberScaled
 * rounds correctly there, and the ends of the interval are formed by ADD, whose error
 * (≤ 3.01u² (|vh| + slack)) the 2^-103 |vh| in the slack covers. A value below 2^-900 before
 * scaling, or 0, is never certain (no certain result is that small: see the bound on N).
 */
function roundIntoSlowly(out: Float64Array, i: number, vh: number, vl: number, k: number, slack: number): boolean {
  const v = dd(vh, vl);
  out[i] = toNumberScaled(v, k);
  const magnitude = Math.abs(vh);
  if (!(magnitude >= 2 ** -900 && magnitude < 2 ** 900 && slack < magnitude / 4)) return false;
  const d = slack * (1 + 2 ** -40) + magnitude * 2 ** -103;
  return toNumberScaled(add(v, dd(-d)), k) === toNumberScaled(add(v, dd(d)), k);
}

/** Whether v/2 is not a float64 (a subnormal with its last bit set). */
function halvingRounds(v: number): boolean {
  return (v * 0.5) * 2 !== v;
}

/** The rounding error of s = a + b (Knuth's two-sum). */
function twoSumLow(a: number, b: number, s: number): number {
  const v = s - a;
  return a - (s - v) + (b - v);
}

const BITS = new Float64Array(1);
const WORDS = new Uint32Array(BITS.buffer);
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // little-endian: 1

/** floor(log2 |v|) for a finite non-zero v, subnormals included. */
function binaryExponent(v: number): number {
  BITS[0] = v;
  const biased = (WORDS[HIGH_WORD] >>> 20) & 0x7ff;
  return biased !== 0 ? biased - 1023 : Math.floor(Math.log2(Math.abs(v)));
}
