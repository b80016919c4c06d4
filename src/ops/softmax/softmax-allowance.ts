/**
 * What rounding allows a correct softmax kernel: how far each element of its results may land
 * from the exact ones, and how far each slice's sums may stray from Σ s = 1 and Σ dx = 0.
 *
 * Derived in docs/verdict.md from the roundings of every step such a kernel takes, whatever its
 * form (normalised exponentials, times 1/Σ, or the log-sum-exp; closed form or explicit Jacobian),
 * the order of its sums, and whether backward reads the softmax as stored or kept wider. With
 * u_d, u_c, u_a the unit roundoffs of the dtype, the compute type and the accumulation type, n the
 * slice length, m its largest logit and b the value compared against:
 *
 *   softmax:  allowed_i = atol + (rtol + μ_i)·|b_i| + ν
 *   grad:     allowed_i = atol + (rtol + μ_i)·|b_i| + s_i Σ_j (rtol + μ_j) s_j |g_j| + ν_i
 *   μ_j = (2|x_j − m| + 4 ln n + 12)·u_c + 3n·u_a   (first order; higher orders below)
 *
 * rtol pays for the two roundings to the dtype (the softmax that backward reads, and the result:
 * 2u_d, which every default tolerance exceeds, and below which a given rtol is raised); μ for the
 * operations and sums in between; the sum over j for the terms whose cancellation forms
 * dx_i = s_i (g_i − ⟨s, g⟩), which a plain rtol·|b_i| ignores: where g_i is near ⟨s, g⟩, a correct
 * bfloat16 kernel can be off by several times |dx_i| itself. ν is the absolute spacing of results
 * below the normal range.
 */
import { DEFAULT_TOLERANCE, SMALLEST_SUBNORMAL, UNIT_ROUNDOFF, type Tolerance } from '../../dtype.js';
import type { Arithmetic } from '../../numeric/arithmetic.js';
import { maxPropagatingNaN } from '../../numeric/max.js';
import { withHigherOrders } from '../../comparisons/higher-orders.js';
import { forEachSlice, type SliceLayout } from '../../numeric/slices.js';
import type { AllowanceRule, Allowances, ElementAllowance } from '../../comparisons/allowance.js';

/** The terms above for one quantity, read by SOFTMAX_RULE. */
export interface SoftmaxElementAllowance extends ElementAllowance {
  readonly atol: number;
  /** rtol on |b|, at least 2u_d: a result read back and stored again in the dtype. */
  readonly rtol: number;
  /** rtol on the cancellation term, at least u_d: the stored softmax ⟨s, g⟩ is formed from. */
  readonly cancellationRtol: number;
  /** The softmax has no cancellation term, and the same underflow for every element. */
  readonly quantity: 'softmax' | 'grad';
  readonly terms: AllowanceTerms;
}

/** What every element's terms are made from: the inputs, the arithmetic's constants, sums per slice. */
export interface AllowanceTerms {
  readonly layout: SliceLayout;
  readonly x: Float64Array;
  readonly g: Float64Array;
  readonly softmax: Float64Array;
  /** 2u_c and (4 ln n + 12) u_c + 3n u_a: μ_i = 2u_c |x_i − m| + shared, to first order. */
  readonly twoUc: number;
  readonly shared: number;
  readonly tinyStored: number;
  readonly storedThreshold: number;
  readonly softmaxUnderflow: number;
  /** Per slice: m, Σ s_j |g_j|, Σ μ_j s_j |g_j|, τ_d Σ |g_j| (and the smallest factor it can take without underflow), the shared underflow. */
  readonly sliceMax: Float64Array;
  readonly weights: Float64Array;
  readonly weightedMus: Float64Array;
  readonly storedTinies: Float64Array;
  readonly storedTinyThresholds: Float64Array;
  readonly underflows: Float64Array;
}

/** μ_i of element i in slice k. */
export function arithmeticShare(allowance: SoftmaxElementAllowance, i: number, k: number): number {
  const { softmax, x, sliceMax, twoUc, shared } = allowance.terms;
  return softmax[i] === 0 ? 0 : withHigherOrders(twoUc * Math.abs(x[i] - sliceMax[k]) + shared);
}

/** C_i = s_i Σ_j s_j |g_j| of element i in slice k: 0 for the softmax. */
export function cancellationSize(allowance: SoftmaxElementAllowance, i: number, k: number): number {
  return allowance.quantity === 'grad' ? allowance.terms.softmax[i] * allowance.terms.weights[k] : 0;
}

/** s_i Σ_j μ_j s_j |g_j| + ν_i of element i in slice k; ν for the softmax. */
export function absoluteShare(allowance: SoftmaxElementAllowance, i: number, k: number): number {
  const t = allowance.terms;
  if (allowance.quantity === 'softmax') return t.softmaxUnderflow;
  const s = t.softmax[i];
  const spread = s === 0 ? 0 : s * t.weightedMus[k];
  const tinies = tinyTimes(t.tinyStored, t.storedThreshold, Math.abs(t.g[i])) + tinyTimes(t.storedTinies[k], t.storedTinyThresholds[k], s);
  return spread + t.underflows[k] + tinies;
}

export interface SoftmaxAllowances extends Allowances {
  readonly forward: SoftmaxElementAllowance;
  readonly grad: SoftmaxElementAllowance;
}

/** A softmax and gradient close to the exact ones, which set the allowances' size, and the rounded inputs. */
export interface AllowanceInputs {
  readonly x: Float64Array;
  readonly g: Float64Array;
  readonly softmax: Float64Array;
  readonly grad: Float64Array;
  readonly layout: SliceLayout;
}

/** softmax's rule: the terms above, element by element. */
const SOFTMAX_RULE: AllowanceRule<SoftmaxElementAllowance> = {
  rounding(allowance, i, b, k) {
    // μ_i is infinite where the arithmetic bounds nothing (a sum of more than 1/(3u_a) terms);
    // a |b| of 0 then adds nothing rather than NaN.
    const relative = b === 0 ? 0 : (allowance.rtol + arithmeticShare(allowance, i, k)) * Math.abs(b);
    return relative + allowance.cancellationRtol * cancellationSize(allowance, i, k) + absoluteShare(allowance, i, k);
  },
  parts: softmaxParts,
};

function softmaxParts(allowance: SoftmaxElementAllowance, i: number, b: number, k: number): { relative: number; cancellation: number; arithmetic: number } {
  const magnitude = Math.abs(b);
  return {
    relative: allowance.rtol * magnitude,
    cancellation: allowance.cancellationRtol * cancellationSize(allowance, i, k),
    arithmetic: (b === 0 ? 0 : arithmeticShare(allowance, i, k) * magnitude) + absoluteShare(allowance, i, k),
  };
}

/** The smallest normal float64: a product below it takes x86 dozens of times longer (microcode). */
const MIN_NORMAL = 2 ** -1022;
/** Σ |g| is summed scaled by this, so that it cannot overflow (n·max|g| ≤ 2^31·2^1024 → 2^991). */
const MAGNITUDE_SCALE = 2 ** -64;

/**
 * τ·X for a tiny τ (a smallest subnormal), without subnormal arithmetic: a product that would
 * fall below the normal range is bounded by the smallest normal number instead. An allowance that
 * small matters only to a comparison with atol 0 of subnormal results, and there it errs wide.
 */
function tinyTimes(tiny: number, threshold: number, factor: number): number {
  return factor >= threshold ? tiny * factor : MIN_NORMAL;
}

/** tinyTimes with its threshold worked out: for products made once a slice, not once an element. */
function tinyProduct(tiny: number, factor: number): number {
  return tinyTimes(tiny, MIN_NORMAL / tiny, factor);
}

const BLOCK = 4096;
const SUMS = 7;

/**
 * One block's share of a slice's sums, added into `sums`: Σ s_j |g_j|, Σ μ_j s_j |g_j|, Σ s_j μ_j,
 * Σ (2u_d + μ_j) s_j |g_j|, Σ |g_j| scaled, Σ (4u_d + μ_j) |dx_j| and Σ |dx_j|.
 */
function addSliceSums(
  xs: Float64Array,
  gs: Float64Array,
  ss: Float64Array,
  dxs: Float64Array,
  from: number,
  to: number,
  max: number,
  twoUc: number,
  shared: number,
  ud: number,
  sums: Float64Array,
): void {
  let weight = 0;
  let weightedMu = 0;
  let softmaxMu = 0;
  let weightedBound = 0;
  let scaledMagnitude = 0;
  let gradTerms = 0;
  let gradMagnitude = 0;
  for (let j = from; j < to; j++) {
    const s = ss[j];
    const magnitude = Math.abs(gs[j]);
    const dx = Math.abs(dxs[j]);
    scaledMagnitude += magnitude * MAGNITUDE_SCALE;
    gradMagnitude += dx;
    // A probability of 0 (a masked logit, or one too far below the max) is 0 in every correct
    // kernel and weighs nothing in the sums; nor does a g_j of 0, even against an infinite μ_j.
    if (s === 0) {
      gradTerms += 4 * ud * dx;
      continue;
    }
    const mu = withHigherOrders(twoUc * Math.abs(xs[j] - max) + shared);
    softmaxMu += s * mu;
    gradTerms += (4 * ud + mu) * dx;
    const w = s * magnitude;
    if (w === 0) continue;
    weight += w;
    weightedMu += mu * w;
    weightedBound += (2 * ud + mu) * w;
  }
  sums[0] += weight;
  sums[1] += weightedMu;
  sums[2] += softmaxMu;
  sums[3] += weightedBound;
  sums[4] += scaledMagnitude;
  sums[5] += gradTerms;
  sums[6] += gradMagnitude;
}

/** The allowances for one input in the arithmetic a kernel is taken to run in. */
export function roundingAllowances(inputs: AllowanceInputs, arithmetic: Arithmetic, tolerance: Tolerance): SoftmaxAllowances {
  const { x, g, softmax, grad, layout } = inputs;
  const ud = UNIT_ROUNDOFF[arithmetic.dtype];
  const uc = UNIT_ROUNDOFF[arithmetic.compute];
  const ua = UNIT_ROUNDOFF[arithmetic.accumulate];
  const tinyStored = SMALLEST_SUBNORMAL[arithmetic.dtype];
  const tinyComputed = SMALLEST_SUBNORMAL[arithmetic.compute];
  const tinySummed = SMALLEST_SUBNORMAL[arithmetic.accumulate];
  // τ_d·|g_i| is a product per element: its threshold is worked out once.
  const storedThreshold = MIN_NORMAL / tinyStored;
  const softmaxUnderflow = tinyStored + tinyComputed;
  const baseline = DEFAULT_TOLERANCE[arithmetic.dtype];
  const looser = tolerance.rtol > baseline.rtol || tolerance.atol > baseline.atol;
  const [slackAtol, slackRtol] = looser ? [tolerance.atol, tolerance.rtol] : [0, 0];
  const n = layout.length;
  const shared = (4 * Math.log(n) + 12) * uc + 3 * n * ua;
  const twoUc = 2 * uc;

  // Per slice: its largest logit, Σ s_j |g_j|, Σ μ_j s_j |g_j|, τ_d Σ |g_j| and the underflow every
  // element of it shares; the elements' terms are made from these when asked for.
  const sliceMax = new Float64Array(layout.count);
  const weights = new Float64Array(layout.count);
  const weightedMus = new Float64Array(layout.count);
  const storedTinies = new Float64Array(layout.count);
  const storedTinyThresholds = new Float64Array(layout.count);
  const underflows = new Float64Array(layout.count);
  const softmaxSum = new Float64Array(layout.count);
  const gradSum = new Float64Array(layout.count);
  const expectedSoftmaxSum = new Float64Array(layout.count);
  const expectedGradSum = new Float64Array(layout.count);
  const sums = new Float64Array(SUMS);
  forEachSlice(layout, [x, g, softmax, grad], [], ([xs, gs, ss, dxs], _, k) => {
    const max = maxPropagatingNaN(xs);
    sums.fill(0);
    // In blocks, so that V8 optimises the loop early even in one slice of 10^7 elements.
    for (let from = 0; from < n; from += BLOCK) addSliceSums(xs, gs, ss, dxs, from, Math.min(n, from + BLOCK), max, twoUc, shared, ud, sums);
    const [weight, weightedMu, softmaxMu, weightedBound, scaledMagnitude, gradTerms, gradMagnitude] = sums;
    // Results below the normal range. A stored gradient, or a stored probability, is off by up to
    // the dtype's smallest subnormal τ_d: s_i's error is multiplied by |g_i − ⟨s, g⟩|, and every
    // s_j's reaches ⟨s, g⟩ times |g_j|, which dx_i takes times s_i (per element, below). Products
    // that underflow in the compute type are off by its smallest subnormal each, times |g_j|
    // (docs/numerics.md, "How far the plain methods can land"); and each of a sum's n additions by the
    // accumulation type's, where partial sums fall below its normal range (a gradient of tiny g).
    const storedTiny = tinyProduct(tinyStored / MAGNITUDE_SCALE, scaledMagnitude);
    const computedTiny = tinyProduct(tinyComputed / MAGNITUDE_SCALE, scaledMagnitude);
    const underflow = tinyProduct(tinyStored, 1 + weight) + computedTiny + tinyProduct(tinyComputed, n + 1) + tinyProduct(tinySummed, n);
    // The sums' bounds take each stored value as off by 2u_d, not u_d: a store that truncates
    // (toward zero, a Triton option) errs that far, all in one direction. The per-element
    // underflow, τ_d (|g_i| + s_i Σ|g_j|), sums to 2 τ_d Σ|g_j| over the slice (or n smallest
    // normals, where it is bounded by them).
    const gradBound = weightedBound + gradTerms + n * underflow + 2 * (storedTiny + n * MIN_NORMAL);
    sliceMax[k] = max;
    weights[k] = weight;
    weightedMus[k] = weightedMu;
    storedTinies[k] = storedTiny;
    storedTinyThresholds[k] = MIN_NORMAL / storedTiny;
    underflows[k] = underflow;
    softmaxSum[k] = 2 * ud + softmaxMu + n * softmaxUnderflow;
    gradSum[k] = gradBound;
    // Σ_i (atol + rtol·(|b_i| + C_i)) of a looser tolerance: Σ s_i = 1 and Σ_i C_i = Σ s_j |g_j|.
    expectedSoftmaxSum[k] = softmaxSum[k] + n * slackAtol + slackRtol;
    expectedGradSum[k] = gradBound + n * slackAtol + slackRtol * (gradMagnitude + weight);
  });

  const terms: AllowanceTerms = {
    layout,
    x,
    g,
    softmax,
    twoUc,
    shared,
    tinyStored,
    storedThreshold,
    softmaxUnderflow,
    sliceMax,
    weights,
    weightedMus,
    storedTinies,
    storedTinyThresholds,
    underflows,
  };
  const common = { atol: tolerance.atol, rtol: Math.max(tolerance.rtol, 2 * ud), cancellationRtol: Math.max(tolerance.rtol, ud), terms, rule: SOFTMAX_RULE };
  return {
    forward: { ...common, quantity: 'softmax' },
    grad: { ...common, quantity: 'grad' },
    slices: { softmaxSum, gradSum },
    expectedSlices: { softmaxSum: expectedSoftmaxSum, gradSum: expectedGradSum },
  };
}
