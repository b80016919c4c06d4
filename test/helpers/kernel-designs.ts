import fc from 'fast-check';
import type { DType } from '../../src/dtype.js';
import { arithmeticFor, DEFAULT_COMPUTE } from '../../src/numeric/arithmetic.js';
import type { Report } from '../../src/core/report.js';

/**
 * The ways a correct softmax kernel can be built, for testing that the verdict accepts every one
 * of them: where it computes and sums, how it normalises, which backward it runs, whether
 * backward reads the softmax as stored in the dtype or kept wider, and in what order it sums.
 */
export interface KernelDesign {
  readonly dtype: DType;
  /** float32 "opmath" for the half types, as PyTorch, Triton and cuDNN; or the dtype itself. */
  readonly compute: DType;
  readonly accumulate: DType;
  readonly forward: 'normalise' | 'reciprocal' | 'log-sum-exp';
  readonly backward: 'closed-form' | 'jacobian';
  /** Backward reads the softmax as stored in the dtype, or as computed (kept in registers). */
  readonly storedSoftmax: boolean;
  /** Sequential either way, pairwise, or in 8 interleaved lanes then pairwise (a SIMD reduction). */
  readonly order: 'forward' | 'reverse' | 'pairwise' | 'lanes';
  /** exp rounded to nearest, or a library exp one ulp off (up or down, element by element). */
  readonly exp?: 'nearest' | 'one-ulp-off';
  /** What the kernel stores: rounded to nearest, or truncated toward zero (Triton's "rtz"). */
  readonly store?: 'nearest' | 'toward-zero';
}

const PRECISION: Readonly<Record<DType, { bits: number; minExponent: number }>> = {
  float64: { bits: 53, minExponent: -1022 },
  float32: { bits: 24, minExponent: -126 },
  float16: { bits: 11, minExponent: -14 },
  bfloat16: { bits: 8, minExponent: -126 },
};

/** The next value of `dtype` from `value` (which is one) toward zero: its spacing just below |value|. */
function nextTowardZero(value: number, dtype: DType): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const { bits, minExponent } = PRECISION[dtype];
  const magnitude = Math.abs(value);
  const exponent = Math.max(Math.floor(Math.log2(magnitude)), minExponent);
  const onPower = magnitude === 2 ** exponent && exponent > minExponent;
  const spacing = 2 ** (exponent - bits + (onPower ? 0 : 1));
  return Math.sign(value) * (magnitude - spacing);
}

/** `value` rounded to `dtype` toward zero. */
function truncate(value: number, dtype: DType, nearest: (v: number) => number): number {
  const rounded = nearest(value);
  return Math.abs(rounded) > Math.abs(value) ? nextTowardZero(rounded, dtype) : rounded;
}

/** One ulp of `dtype` up or down from `value`, by a fixed pseudo-random choice per element. */
function oneUlpOff(value: number, dtype: DType, k: number): number {
  if (value === 0) return value;
  const down = nextTowardZero(value, dtype);
  const spacing = Math.abs(value - down);
  return Math.sin(k * 12.9898) > 0 ? down : value + Math.sign(value) * spacing;
}

/** Every correct softmax kernel design in `dtype`, as fast-check draws them. */
export const softmaxDesigns = (dtype: DType): fc.Arbitrary<KernelDesign> =>
  fc.record({
    dtype: fc.constant(dtype),
    compute: fc.constantFrom(DEFAULT_COMPUTE[dtype], dtype),
    accumulate: fc.constantFrom<DType>(...(dtype === 'float64' ? (['float64'] as const) : (['float64', 'float32', dtype] as const))),
    forward: fc.constantFrom('normalise', 'reciprocal', 'log-sum-exp'),
    backward: fc.constantFrom('closed-form', 'jacobian'),
    storedSoftmax: fc.boolean(),
    order: fc.constantFrom('forward', 'reverse', 'pairwise', 'lanes'),
    exp: fc.constantFrom('nearest', 'one-ulp-off'),
    // Truncating stores err by up to 2u_d, twice rounding to nearest: bfloat16's rtol (4.1 u_d)
    // covers that on both stores a gradient goes through, float16's (2.05 u_d) does not, and a
    // long run found one 1.12 times its allowance (docs/verdict.md, "The sums").
    store: dtype === 'float16' ? fc.constant('nearest') : fc.constantFrom('nearest', 'toward-zero'),
  });

/** One slice through the design: what the kernel stores as softmax and as gradient. */
export function runDesign(design: KernelDesign, x: readonly number[], g: readonly number[]): { softmax: number[]; grad: number[] } {
  const { round, roundSum, store: nearest } = arithmeticFor(design.dtype, { compute: design.compute, accumulate: design.accumulate });
  const store = design.store === 'toward-zero' ? (v: number) => truncate(v, design.dtype, nearest) : nearest;
  const exp = design.exp === 'one-ulp-off' ? (t: number, k: number) => oneUlpOff(round(Math.exp(t)), design.compute, k) : (t: number) => round(Math.exp(t));
  const sum = (terms: number[]): number => sumInOrder(terms, design.order, roundSum);
  const n = x.length;
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  const shifted = x.map((v) => round(v - max));
  const e = shifted.map((t, k) => exp(t, k));
  const total = sum(e);
  let computed: number[];
  if (design.forward === 'normalise') computed = e.map((v) => round(v / total));
  else if (design.forward === 'reciprocal') {
    const inverse = round(1 / total);
    computed = e.map((v) => round(v * inverse));
  } else {
    const logTotal = round(Math.log(total));
    computed = shifted.map((t, k) => exp(round(t - logTotal), k));
  }
  const softmax = computed.map(store);
  const s = design.storedSoftmax ? softmax : computed;
  let grad: number[];
  if (design.backward === 'closed-form') {
    const centre = round(sum(s.map((v, j) => round(v * g[j]))));
    grad = s.map((v, i) => store(round(v * round(g[i] - centre))));
  } else {
    grad = Array.from({ length: n }, (_, i) =>
      store(round(sum(s.map((sj, j) => round(round(s[i] * round((i === j ? 1 : 0) - sj)) * g[j]))))),
    );
  }
  return { softmax, grad };
}

export function sumInOrder(terms: number[], order: KernelDesign['order'], roundSum: (v: number) => number): number {
  const sequential = (values: number[]) => values.reduce((acc, v) => roundSum(acc + v), 0);
  const pairwise = (values: number[]): number => {
    if (values.length === 0) return 0;
    if (values.length === 1) return values[0];
    const half = values.length >> 1;
    return roundSum(pairwise(values.slice(0, half)) + pairwise(values.slice(half)));
  };
  if (order === 'forward') return sequential(terms);
  if (order === 'reverse') return sequential([...terms].reverse());
  if (order === 'pairwise') return pairwise(terms);
  const lanes = Array.from({ length: 8 }, (_, lane) => sequential(terms.filter((_, j) => j % 8 === lane)));
  return pairwise(lanes);
}

/**
 * Rows of bfloat16 logits about 10 wide and an upstream gradient with a mean of 0.5 (so that
 * ⟨s, g⟩ is not small), through a log-sum-exp kernel that computes in bfloat16 itself: correct,
 * and rounding more than float32 operations would (its results fail the default arithmetic).
 */
export function noOpmathKernelCase(rows = 4, n = 2048) {
  const dtype = 'bfloat16';
  const design: KernelDesign = { dtype, compute: dtype, accumulate: 'float32', forward: 'log-sum-exp', backward: 'closed-form', storedSoftmax: true, order: 'lanes' };
  const { store } = arithmeticFor(dtype);
  const x = Array.from({ length: rows * n }, (_, k) => store(10 * Math.sin(k * 12.9898) * Math.cos(k * 0.37)));
  const g = Array.from({ length: rows * n }, (_, k) => store(0.5 + Math.cos(k * 78.233)));
  const softmax: number[] = [];
  const grad: number[] = [];
  for (let r = 0; r < rows; r++) {
    const out = runDesign(design, x.slice(r * n, (r + 1) * n), g.slice(r * n, (r + 1) * n));
    softmax.push(...out.softmax);
    grad.push(...out.grad);
  }
  const shape = [rows, n];
  const tensor = (values: number[]) => ({ shape, data: Float64Array.from(values) });
  return { dtype, design, x: tensor(x), g: tensor(g), expected: { forward: Float64Array.from(softmax), grad: Float64Array.from(grad) } } as const;
}

/**
 * The ways a correct log_softmax kernel can be built: PyTorch's (x − m) − log Σ, or x − lse with
 * lse = m + log Σ rounded (Triton's and many fused kernels'); the half types' sum and its log
 * stored in the dtype first (PyTorch's CPU kernels), or kept wider; backward's closed form
 * g − exp(y)·Σg or the Jacobian's columns Σ_j (δ_ij − s_i) g_j; y read back as stored or as computed.
 */
export interface LogSoftmaxDesign {
  readonly dtype: DType;
  readonly compute: DType;
  readonly accumulate: DType;
  readonly forward: 'shift-then-log' | 'lse';
  readonly storedSum: boolean;
  readonly backward: 'closed-form' | 'jacobian';
  readonly storedY: boolean;
  readonly order: KernelDesign['order'];
  readonly exp: 'nearest' | 'one-ulp-off';
}

/** One slice through a log_softmax design: what the kernel stores as log_softmax and as gradient. */
export function runLogSoftmaxDesign(design: LogSoftmaxDesign, x: readonly number[], g: readonly number[]): { logSoftmax: number[]; grad: number[] } {
  const { round, roundSum, store } = arithmeticFor(design.dtype, { compute: design.compute, accumulate: design.accumulate });
  const exp = design.exp === 'one-ulp-off' ? (t: number, k: number) => oneUlpOff(round(Math.exp(t)), design.compute, k) : (t: number) => round(Math.exp(t));
  const sum = (terms: number[]): number => sumInOrder(terms, design.order, roundSum);
  const keep = design.storedSum ? store : (v: number) => v;
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  const shifted = x.map((v) => round(v - max));
  const total = keep(sum(shifted.map((t, k) => exp(t, k))));
  const logTotal = keep(round(Math.log(total)));
  const computed =
    design.forward === 'shift-then-log'
      ? shifted.map((t) => round(t - logTotal))
      : ((lse: number) => x.map((v) => round(v - lse)))(round(max + logTotal));
  const logSoftmax = computed.map(store);
  const y = design.storedY ? logSoftmax : computed;
  if (g.length === 0) return { logSoftmax: y, grad: [] };
  const n = x.length;
  let grad: number[];
  if (design.backward === 'closed-form') {
    const gSum = keep(sum([...g]));
    grad = y.map((v, i) => store(round(g[i] - round(exp(v, i) * gSum))));
  } else {
    grad = Array.from({ length: n }, (_, i) => {
      const s = exp(y[i], i);
      return store(sum(g.map((gj, j) => round(round((i === j ? 1 : 0) - s) * gj))));
    });
  }
  return { logSoftmax, grad };
}

/**
 * The ways a correct cross_entropy kernel over class indices can be built: log_softmax by one of
 * its designs (its y as the loss and the backward read it), each sample's term −Σ_c w_c q_c y_c in
 * the compute type (q the smoothed target), the batch's sum and the weights' in an order and a type
 * (PyTorch sums an index target's loss in the dtype itself), then h = dL/dy stored in the dtype and
 * log_softmax's backward of it.
 */
export interface CrossEntropyDesign {
  readonly logSoftmax: LogSoftmaxDesign;
  /** The loss's and the weights' sums: in the dtype (PyTorch's nll for index targets) or the accumulation type. */
  readonly lossSum: 'dtype' | 'accumulate';
}

export interface CrossEntropyCase {
  readonly x: readonly (readonly number[])[];
  readonly target: readonly number[];
  readonly weight?: readonly number[];
  readonly labelSmoothing: number;
  readonly reduction: 'mean' | 'sum';
  readonly ignoreIndex: number;
  readonly g: number;
}

export function runCrossEntropyDesign(design: CrossEntropyDesign, c: CrossEntropyCase): { loss: number; grad: number[][] } {
  const { dtype, compute, accumulate, order } = design.logSoftmax;
  const { round, roundSum, store } = arithmeticFor(dtype, { compute, accumulate });
  const lossRound = design.lossSum === 'dtype' ? store : roundSum;
  const sum = (terms: number[], add: (v: number) => number): number => sumInOrder(terms, order, add);
  const classes = c.x[0].length;
  const weightOf = (k: number): number => c.weight?.[k] ?? 1;
  const keep = round(1 - c.labelSmoothing);
  const spread = round(c.labelSmoothing / classes);
  const ys = c.x.map((row) => runLogSoftmaxDesign(design.logSoftmax, row, []).logSoftmax);
  const counted = c.target.map((t) => t !== c.ignoreIndex);
  const wq = c.target.map((t, n) => Array.from({ length: classes }, (_, k) => (counted[n] ? round(weightOf(k) * (k === t ? round(keep + spread) : spread)) : 0)));
  const terms = ys.map((y, n) => (counted[n] ? -sum(y.map((v, k) => (wq[n][k] === 0 ? 0 : round(wq[n][k] * v))), roundSum) : 0));
  const total = sum(terms, lossRound);
  const divisor = c.reduction === 'sum' ? 1 : store(sum(c.target.filter((_, n) => counted[n]).map((t) => weightOf(t)), lossRound));
  const loss = store(round(total / divisor));
  const scale = round(c.g / divisor);
  const grad = ys.map((y, n) => {
    const h = wq[n].map((v) => store(round(-v * scale)));
    const hSum = sum(h, roundSum);
    return y.map((v, k) => store(round(h[k] - round(round(Math.exp(v)) * hSum))));
  });
  return { loss, grad };
}

/** Throws, naming the first failing comparison and its worst element, when any of the report's comparisons has a mismatch. */
export function assertNoMismatch(report: Report): void {
  for (const comparison of report.comparisons) {
    if (comparison.closeness.mismatched > 0) {
      throw new Error(`${comparison.quantity} ${comparison.actual} vs ${comparison.expected}: worst ${comparison.closeness.worst.value} at ${comparison.closeness.worst.index}`);
    }
  }
}
