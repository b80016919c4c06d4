import type { BigNumber } from 'mathjs';
import type { CrossEntropySpec } from './cross-entropy-spec.js';
import { accurateLogSoftmaxSlice, decided, DX_DECIDED, Y_DECIDED } from '../log_softmax/accurate-log-softmax.js';
import { ignoredSampleGradient, isLossTerm, nonFiniteScaleGradient } from './cross-entropy.js';
import { maxPropagatingNaN } from '../../numeric/max.js';
import { forEachSlice, sliceLayout, type SliceLayout } from '../../numeric/slices.js';
import { add, dd, div, mul, mulNumber, neg, type DD } from '../../numeric/double-double.js';
import { twoSumError } from '../../numeric/error-free.js';
import type { Tensor } from '../../tensor.js';
import { decimalClasses, exactDecimal, isFarLogit, LOG_BIGNUMBER_PRECISIONS, type DecimalClass } from '../../reference/bignumber-reference.js';
import { UNLIMITED, type BigNumberPolicy, type LeftUndecided } from '../../reference/reference-by-slices.js';
import { logOnePlus, roundsUniquely, toNumber } from '../log_softmax/log-softmax-reference.js';
import { pivotIndex, type ReferenceEngine } from '../../reference/reference-slice.js';
import { type ReferenceResult } from '../../reference/reference-result.js';

/**
 * The correctly rounded cross_entropy loss and gradient (see cross-entropy.ts for the
 * definitions): double-double first, BigNumber for whatever it leaves undecided.
 *
 * Double-double: h = dL/dy = −w ⊙ q · scale formed in double-double from the inputs (q's 1 − ε
 * exactly, ε/C, D and g/D each within 2^-104), then log_softmax's backward of h in double-double
 * with its bounds (accurate-log-softmax.ts, which allows h 2^-100 of its own); the loss from the
 * double-double log_softmax, term by term, each y_c's error weighted by w_c q_c. An ignored
 * sample's gradient is exactly 0. BigNumber does the same in decimal at 64, 256 or 1024 digits.
 */
export async function computeCrossEntropyReference(
  x: Tensor,
  g: Tensor,
  spec: CrossEntropySpec,
  axis: number,
  engine: ReferenceEngine,
  /** How far BigNumber may take over what double-double leaves undecided (it recomputes the whole input, the mean coupling the samples). */
  policy: BigNumberPolicy = UNLIMITED,
): Promise<ReferenceResult | LeftUndecided> {
  const layout = sliceLayout(x.shape, axis);
  if (engine === 'double-double') {
    const found = doubleDoubleCrossEntropy(x.data, g.data, spec, layout);
    if (found.decided) return { forward: found.loss, grad: found.grad, engine, slicesByBigNumber: 0 };
    if (x.data.length > policy.elementLimit) return { slices: layout.count, elements: x.data.length, ranOutOfTime: false };
  }
  const deadline = policy.seconds === undefined ? undefined : Date.now() + 1000 * policy.seconds;
  const classes = await decimalClasses(LOG_BIGNUMBER_PRECISIONS);
  let result: Found | undefined;
  const step = policy.progress?.step('exact reference (BigNumber)', classes.length * layout.count);
  try {
    for (const [pass, { precision, Decimal }] of classes.entries()) {
      if (pass > 0 && deadline !== undefined && Date.now() > deadline) {
        return { slices: layout.count, elements: x.data.length, ranOutOfTime: true };
      }
      result = bigNumberCrossEntropy(Decimal, precision, x.data, g.data, spec, layout, (k) => step?.advance(pass * layout.count + k + 1));
      if (result.decided) break;
    }
  } finally {
    step?.end();
  }
  return { forward: result!.loss, grad: result!.grad, engine, slicesByBigNumber: layout.count };
}

interface Found {
  readonly loss: Float64Array;
  readonly grad: Float64Array;
  readonly decided: boolean;
}

function doubleDoubleCrossEntropy(x: Float64Array, g: Float64Array, spec: CrossEntropySpec, layout: SliceLayout): Found {
  const C = layout.length;
  const weightOf = (c: number): number => spec.weight?.[c] ?? 1;
  const epsilon = spec.labelSmoothing;
  const keep: DD = { hi: 1 - epsilon, lo: twoSumError(1, -epsilon, 1 - epsilon) };
  const spread = div(dd(epsilon), dd(C));
  const counted = (k: number): boolean => spec.targetKind === 'probability' || spec.target.data[k] !== spec.ignoreIndex;
  // D: the mean's divisor.
  let divisor = dd(1);
  if (spec.reduction === 'mean') {
    if (spec.targetKind === 'probability') divisor = dd(layout.count);
    else {
      divisor = dd(0);
      for (let k = 0; k < layout.count; k++) if (counted(k)) divisor = add(divisor, dd(weightOf(spec.target.data[k])));
    }
  }
  // Mean over weights that sum to 0 (all zero, or of both signs): the scale g/D is not finite, and
  // neither is any counted sample's gradient, nor the loss but where it is 0/0.
  const divisorZero = spec.reduction === 'mean' && divisor.hi === 0;
  const scaleOf = (k: number): DD => (spec.reduction === 'none' ? dd(g[k]) : div(dd(g[0]), divisor));
  const scaleFinite = (k: number): boolean => (spec.reduction === 'none' ? Number.isFinite(g[k]) : !divisorZero && Number.isFinite(g[0]));
  const size = x.length;
  const weighted = new Float64Array(size);
  const weightedLow = new Float64Array(size);
  const hHigh = new Float64Array(size);
  const hLow = new Float64Array(size);
  forEachSlice(layout, [spec.targetKind === 'probability' ? spec.target.data : new Float64Array(size)], [weighted, weightedLow, hHigh, hLow], ([p], [wq, wql, hh, hl], k) => {
    wq.fill(0);
    wql.fill(0);
    hh.fill(0);
    hl.fill(0);
    if (!counted(k)) return;
    const finite = scaleFinite(k);
    const scale = finite ? scaleOf(k) : dd(0);
    for (let c = 0; c < C; c++) {
      const q = spec.targetKind === 'index' ? (c === spec.target.data[k] ? add(keep, spread) : spread) : add(mul(keep, dd(p[c])), spread);
      const w = mulNumber(q, weightOf(c));
      wq[c] = w.hi;
      wql[c] = w.lo;
      if (!isLossTerm(spec, k, c)) continue;
      const h = neg(mul(w, scale));
      hh[c] = h.hi;
      hl[c] = h.lo;
    }
  });
  const grad = new Float64Array(size);
  const perSample: DD[] = [];
  const perSampleError: number[] = [];
  let decided = true;
  forEachSlice(layout, [x, hHigh, hLow, weighted, weightedLow], [grad], ([xs, hh, hl, wq, wql], [dx], k) => {
    const y = new Float64Array(C);
    const yLow = new Float64Array(C);
    const found = accurateLogSoftmaxSlice(xs, hh, y, dx, hl, yLow);
    if (!counted(k)) ignoredSampleGradient(y, dx);
    else if (!scaleFinite(k)) nonFiniteScaleGradient(xs, wq, spec, k, scaleInFloat64(spec, g, divisor.hi, k), dx);
    else if ((found & DX_DECIDED) === 0) decided = false;
    // The loss: −Σ_c w_c q_c y_c, each y_c within (4 + C/16 + 2L + |t_c|)·2^-99 (a bound above
    // accurate-log-softmax.ts's own).
    const max = maxPropagatingNaN(xs);
    const L = Math.max(0, -y[pivotIndex(xs)]) || 0;
    let sum = dd(0);
    let error = 0;
    for (let c = 0; c < C; c++) {
      if (!isLossTerm(spec, k, c) || !Number.isFinite(sum.hi)) continue;
      if (!Number.isFinite(y[c])) {
        // A masked class (or a NaN slice): the loss is what w_c q_c·y_c makes it, exactly.
        sum = dd(sum.hi + (wq[c] + wql[c]) * y[c]);
        continue;
      }
      const term = mul({ hi: wq[c], lo: wql[c] }, { hi: y[c], lo: yLow[c] });
      // Dekker's split overflows beyond 2^996 (a torch.finfo.min class that is a term of the loss,
      // under smoothing or soft targets): BigNumber, whose exponents have room, takes the loss.
      if (!Number.isFinite(term.hi) || Math.abs(y[c]) > 2 ** 990 || Math.abs(term.hi) > 2 ** 990) decided = false;
      sum = add(sum, term);
      error += Math.abs(wq[c]) * (4 + C / 16 + 2 * L + Math.abs(xs[c] - max)) * 2 ** -99 + Math.abs(term.hi) * 2 ** -102;
    }
    perSample.push(counted(k) ? neg(sum) : dd(0));
    perSampleError.push(counted(k) ? error : 0);
    if ((found & Y_DECIDED) === 0 && counted(k)) decided = false;
  });
  let loss: Float64Array;
  if (spec.reduction === 'none') {
    loss = Float64Array.from(perSample, (v) => v.hi + v.lo);
    perSample.forEach((v, k) => (decided &&= lossDecided(v, perSampleError[k])));
  } else if (divisorZero) {
    const over = lossOverZero(perSample, perSampleError, divisor.hi);
    loss = Float64Array.of(over.value);
    decided &&= over.decided;
  } else if (perSample.some((v) => !Number.isFinite(v.hi))) {
    // An infinite or NaN sample's loss is the whole loss's, exactly (double-double sums would make NaN of ∞ − ∞ parts).
    loss = Float64Array.of(perSample.reduce((total, v) => total + v.hi, 0) / divisor.hi);
  } else {
    let total = dd(0);
    let error = 0;
    perSample.forEach((v, k) => {
      total = add(total, v);
      error += perSampleError[k] + Math.abs(v.hi) * 2 ** -104;
    });
    const value = div(total, divisor);
    loss = Float64Array.of(value.hi + value.lo);
    decided &&= lossDecided(value, (error / Math.abs(divisor.hi)) * (1 + 2 ** -90) + Math.abs(value.hi) * 2 ** -102);
  }
  return { loss, grad, decided };
}

/**
 * The scale g/D (or g_k) as float64 computes it: for a sample whose scale is not finite, where the
 * gradient holds no finite value and PyTorch's IEEE arithmetic is the whole answer.
 */
function scaleInFloat64(spec: CrossEntropySpec, g: Float64Array, divisor: number, k: number): number {
  return spec.reduction === 'none' ? g[k] : g[0] / divisor;
}

/**
 * The mean's loss over a divisor of 0: Σ loss_n / 0 is ±Infinity by the sum's sign, NaN where the
 * sum is exactly 0 (every counted weight 0) or some sample's loss is NaN. Undecided while the sum's
 * sign is lost in its error bound (BigNumber then divides).
 */
function lossOverZero(perSample: readonly DD[], perSampleError: readonly number[], divisor: number): { value: number; decided: boolean } {
  if (perSample.some((v) => !Number.isFinite(v.hi))) return { value: perSample.reduce((sum, v) => sum + v.hi, 0) / divisor, decided: true };
  let total = dd(0);
  let error = 0;
  perSample.forEach((v, k) => {
    total = add(total, v);
    error += perSampleError[k] + Math.abs(v.hi) * 2 ** -104;
  });
  if (total.hi === 0 && error === 0) return { value: NaN, decided: true };
  return { value: total.hi / divisor, decided: Math.abs(total.hi) > error };
}

/** Whether every value within `error` of v rounds as v does (non-finite values are what they are). */
function lossDecided(v: DD, error: number): boolean {
  // Not finite, or exactly 0 (every sample ignored): what it is, exactly.
  return !Number.isFinite(v.hi) || (v.hi === 0 && v.lo === 0 && error === 0) || decided(v, error);
}


/** The whole input in decimal at one precision: y by the log-sum-exp (log(1 + T) by its series where small), h, dx, the loss. */
function bigNumberCrossEntropy(
  Decimal: DecimalClass,
  precision: number,
  x: Float64Array,
  g: Float64Array,
  spec: CrossEntropySpec,
  layout: SliceLayout,
  sliceDone: (k: number) => void = () => {},
): Found {
  const big = (value: number): BigNumber => new Decimal(exactDecimal(value));
  const unit = 10 ** (1 - precision);
  const C = layout.length;
  const weightOf = (c: number): BigNumber => (spec.weight === undefined ? big(1) : big(spec.weight[c]));
  const epsilon = big(spec.labelSmoothing);
  const keep = big(1).minus(epsilon);
  const spread = epsilon.div(new Decimal(C));
  const counted = (k: number): boolean => spec.targetKind === 'probability' || spec.target.data[k] !== spec.ignoreIndex;
  let divisor = big(1);
  if (spec.reduction === 'mean') {
    if (spec.targetKind === 'probability') divisor = big(layout.count);
    else {
      divisor = big(0);
      for (let k = 0; k < layout.count; k++) if (counted(k)) divisor = divisor.plus(weightOf(spec.target.data[k]));
    }
  }
  const grad = new Float64Array(x.length);
  const perSample: BigNumber[] = [];
  const perSampleError: BigNumber[] = [];
  let decided = true;
  const probabilities = spec.targetKind === 'probability' ? spec.target.data : new Float64Array(x.length);
  forEachSlice(layout, [x, probabilities], [grad], ([xs, ps], [dx], k) => {
    if (!counted(k)) {
      dx.fill(maxPropagatingNaN(xs) > -Infinity && maxPropagatingNaN(xs) < Infinity ? 0 : NaN);
      perSample.push(big(0));
      perSampleError.push(big(0));
      return;
    }
    const max = maxPropagatingNaN(xs);
    if (!(max > -Infinity && max < Infinity)) {
      dx.fill(NaN);
      perSample.push(new Decimal(NaN));
      perSampleError.push(big(0));
      return;
    }
    const p = pivotIndex(xs);
    const top = big(xs[p]);
    const shifted = Array.from(xs, (v) => (v === -Infinity ? undefined : big(v).minus(top)));
    // Far classes add nothing at these precisions (isFarLogit).
    const far = Array.from(xs, (v) => isFarLogit(v, xs[p]));
    let rest = big(0);
    shifted.forEach((t, j) => {
      if (t !== undefined && j !== p && !far[j]) rest = rest.plus(t.exp());
    });
    const logSum = logOnePlus(rest, Decimal, precision);
    const scaleIndex = spec.reduction === 'none' ? k : 0;
    const scale = Number.isFinite(g[scaleIndex]) && !divisor.isZero() ? big(g[scaleIndex]).div(divisor) : undefined;
    const wq = Array.from({ length: C }, (_, c) => {
      const q = spec.targetKind === 'index' ? (c === spec.target.data[k] ? keep.plus(spread) : spread) : keep.times(big(ps[c])).plus(spread);
      return weightOf(c).times(q);
    });
    if (scale === undefined) nonFiniteScaleGradient(xs, Float64Array.from(wq, toNumber), spec, k, scaleInFloat64(spec, g, divisor.toNumber(), k), dx);
    const h = wq.map((w, c) => (scale === undefined || !isLossTerm(spec, k, c) ? big(0) : w.times(scale).neg()));
    const hTotal = h.reduce((a, b) => a.plus(b), big(0));
    const hMagnitude = h.reduce((a, b) => a.plus(b.abs()), big(0));
    let loss = big(0);
    let lossMagnitude = big(0);
    for (let c = 0; c < C; c++) {
      const t = shifted[c];
      if (t === undefined) {
        // A masked class: s = 0, dx = h; as a term of the loss, w_c q_c·(−Infinity): ±Infinity, or NaN for 0.
        if (scale !== undefined) dx[c] = toNumber(h[c]);
        if (isLossTerm(spec, k, c)) loss = loss.plus(wq[c].isZero() ? new Decimal(NaN) : new Decimal(wq[c].isNegative() ? -Infinity : Infinity));
        continue;
      }
      const y = t.minus(logSum);
      if (isLossTerm(spec, k, c)) {
        const term = wq[c].times(y);
        loss = loss.minus(term);
        lossMagnitude = lossMagnitude.plus(term.abs());
      }
      if (scale === undefined) continue;
      if (far[c]) {
        // s_c |Σh| is far below half the least subnormal: dx_c rounds as h_c, or to a zero of −Σh's sign.
        dx[c] = h[c].isZero() ? (hTotal.isNegative() ? 0 : -0) : toNumber(h[c]);
        if (h[c].isZero() ? hTotal.isZero() : !roundsUniquely(h[c], h[c].abs().times(new Decimal(unit)))) decided = false;
        continue;
      }
      const s = y.exp();
      const value = h[c].minus(s.times(hTotal));
      dx[c] = toNumber(value);
      const error = hMagnitude.times(s).plus(h[c].abs()).times(new Decimal((C + 12) * unit)).plus(s.times(hTotal.abs()).times(new Decimal(y.abs().toNumber() * unit + (C + 12) * unit)));
      if (value.isZero() ? !hTotal.isZero() || !h[c].isZero() : !roundsUniquely(value, error)) decided = false;
    }
    perSample.push(loss);
    perSampleError.push(lossMagnitude.times(new Decimal((C + 12) * unit)));
    sliceDone(k);
  });
  let loss: Float64Array;
  if (spec.reduction === 'none') {
    loss = Float64Array.from(perSample, toNumber);
    perSample.forEach((v, k) => {
      if (v.isFinite() && !v.isZero() && !roundsUniquely(v, perSampleError[k])) decided = false;
    });
  } else {
    const total = perSample.reduce((a, b) => a.plus(b), big(0));
    const error = perSampleError.reduce((a, b) => a.plus(b), big(0)).plus(total.abs().times(new Decimal(4 * unit)));
    const value = total.div(divisor);
    loss = Float64Array.of(toNumber(value));
    if (value.isFinite() && !value.isZero() && !roundsUniquely(value, error.div(divisor.abs()))) decided = false;
  }
  return { loss, grad, decided };
}
