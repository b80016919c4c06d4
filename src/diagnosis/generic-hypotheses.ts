import { allowed } from '../comparisons/allowance.js';
import { DEFAULT_COMPUTE } from '../numeric/arithmetic.js';
import { UNIT_ROUNDOFF, type DType } from '../dtype.js';
import { roundToDType } from '../numeric/round-dtype.js';
import { largestFinite, sliceOf, sliceStart, type SliceLayout } from '../numeric/slices.js';
import { formatIndex } from '../tensor.js';
import { bestPrediction } from './best-prediction.js';
import type { DiagnosisContext, Hypothesis, Prediction, Quantity } from './hypothesis.js';
import { messageNumber } from './message-number.js';
import { countOf, indicesOf } from './slices.js';

/**
 * The shapes of error any op's kernel can make (KERNEL-BUGS.md): computed along another dim, the
 * gradient's sign flipped, one constant factor off, a few stray elements, a narrower dtype, exp
 * overflowing without the max shift, the other convention for fully masked slices.
 */
export function genericHypotheses<Spec>(): readonly Hypothesis<Spec>[] {
  return GENERIC as readonly Hypothesis<Spec>[];
}

// They read no op's fields (only whether there are any): one list serves every op.
const GENERIC: readonly Hypothesis[] = [
  {
    code: 'wrong-dim',
    specific: false,
    predict(context) {
      if (!perElement(context, 'forward') && !perElement(context, 'grad')) return undefined;
      let best: { dim: number; values: Partial<Record<Quantity, Float64Array>>; explains: number } | undefined;
      context.x.shape.forEach((size, d) => {
        if (d === context.axis || size < 2) return;
        const other = context.exactFor({ axis: d });
        if (other === undefined) return;
        const values = { forward: other.forward, grad: other.grad };
        const explains = context.explained(values);
        if (best === undefined || explains > best.explains) best = { dim: d, values, explains };
      });
      if (best === undefined) return undefined;
      const { dim, values } = best;
      return { values, message: `computed along dim ${dim}, not dim ${context.axis}`, details: { dim } };
    },
  },
  {
    code: 'grad-sign',
    specific: false,
    predict(context) {
      if (!failsIn(context, 'grad')) return undefined;
      const exact = context.exact.grad;
      return { values: { grad: (i) => -exact[i] }, message: 'the gradient has the wrong sign' };
    },
  },
  {
    code: 'scaled',
    specific: false,
    predict(context) {
      const byFactor = (q: Quantity): Prediction | undefined => {
        if (!failsIn(context, q)) return undefined;
        const factor = commonRatio(context.expected[q]!, context.exact[q], context.failing[q]!);
        // A factor within rounding's reach of 1 is rounding, fitted; 0 a quantity never written, −1 the gradient's sign (each its own).
        const unit = 8 * UNIT_ROUNDOFF[context.dtype];
        if (factor === undefined || Math.abs(factor - 1) < Math.max(1e-3, unit) || Math.abs(factor) < 1e-6 || (q === 'grad' && Math.abs(factor + 1) < 1e-3)) return undefined;
        const n = context.layout.length;
        const named = Math.abs(factor - n) < 1e-6 * n ? ` (n = ${n}, the slice's length)` : Math.abs(factor * n - 1) < 1e-6 ? ` (1/n, n = ${n} the slice's length)` : '';
        const exact = context.exact[q];
        return { values: { [q]: (i: number) => exact[i] * factor }, message: `the ${context.names[q]} is ${messageNumber(factor)} times the exact one${named}`, details: { factor } };
      };
      return bestPrediction(context, [byFactor('forward'), byFactor('grad')]);
    },
  },
  {
    code: 'lower-precision',
    // Within a looser allowance, not a recomputed value: a precise prediction that explains as much comes first.
    specific: false,
    predict(context) {
      return moreAccounted(context, narrowerDType(context), computesInDType(context));
    },
  },
  {
    code: 'overflow-no-max-shift',
    specific: false,
    predict(context) {
      const overflows = overflowingSlices(context);
      if (overflows.peak === undefined) return undefined;
      // A slice that overflowed shows inf or NaN where the exact values are finite; its other
      // elements went wrong with it (x / inf is 0), so every failing element of such a slice
      // counts. A loss over every slice (-1) that went non-finite counts with them, itself alone.
      const broken = new Set<number>();
      for (const q of ['forward', 'grad'] as const) {
        const expected = context.expected[q];
        if (expected === undefined) continue;
        const exact = context.exact[q];
        expected.forEach((v, i) => {
          const k = sliceOfElement(context, q, i);
          if (!Number.isFinite(v) && Number.isFinite(exact[i]) && overflows.has(k)) broken.add(k);
        });
      }
      if ([...broken].every((k) => k === -1)) return undefined;
      const accounts: Partial<Record<Quantity, Uint8Array>> = {};
      for (const q of ['forward', 'grad'] as const) {
        const expected = context.expected[q];
        if (expected !== undefined) accounts[q] = Uint8Array.from(expected, (_, i) => (broken.has(sliceOfElement(context, q, i)) ? 1 : 0));
      }
      return {
        accounts,
        message: `inf or NaN where the exact values are finite, in slices whose logits reach ${messageNumber(overflows.peak)} (exp overflows ${context.arithmetic.compute} past ${messageNumber(EXP_OVERFLOW[context.arithmetic.compute])}): the max is not subtracted before exp`,
        details: { logit: overflows.peak },
      };
    },
  },
  {
    code: 'masked-row-convention',
    // A convention, not a bug: when it explains all, it comes first.
    specific: true,
    predict(context) {
      // A slice whose exact values are all NaN, or all 0 with a gradient of 0 (masked_rows zero): a fully masked one.
      const { layout } = context;
      const forward = context.exact.forward;
      if (!perElement(context, 'forward') || !context.logits.includes(-Infinity)) return undefined;
      const accounts = { forward: new Uint8Array(forward.length), grad: new Uint8Array(forward.length) };
      let zeroForNaN = 0;
      let nanForZero = 0;
      for (let k = 0; k < layout.count; k++) {
        const start = sliceStart(layout, k);
        const at = (j: number) => start + j * layout.stride;
        // Fully masked: every logit the softmax sees is −∞ (a NaN logit's slice is NaN for another reason).
        if (!everyIn(layout, (j) => context.logits[at(j)] === -Infinity)) continue;
        const allNaN = everyIn(layout, (j) => Number.isNaN(forward[at(j)]));
        const allZero = !allNaN && everyIn(layout, (j) => forward[at(j)] === 0 && context.exact.grad[at(j)] === 0);
        if (!allNaN && !allZero) continue;
        for (let j = 0; j < layout.length; j++) {
          const i = at(j);
          for (const q of ['forward', 'grad'] as const) {
            const v = context.expected[q]?.[i];
            if (v === undefined) continue;
            if (allNaN && v === 0) {
              accounts[q][i] = 1;
              zeroForNaN++;
            } else if (allZero && q === 'forward' && Number.isNaN(v)) {
              // The forward alone: a fully masked slice's gradient is 0 under either convention.
              accounts[q][i] = 1;
              nanForZero++;
            }
          }
        }
      }
      if (zeroForNaN === 0 && nanForZero === 0) return undefined;
      return zeroForNaN >= nanForZero
        ? { accounts, message: "fully masked slices give 0 where the exact result is NaN: the convention of scaled_dot_product_attention and FlashAttention (--masked-rows zero accepts it)", details: { gives: 'zero', flag: '--masked-rows zero' } }
        : { accounts, message: "fully masked slices give NaN where the run expects 0: PyTorch's softmax convention (--masked-rows nan accepts it)", details: { gives: 'nan', flag: '--masked-rows nan' } };
    },
  },
  // Last: any bug with few failures looks like this.
  {
    code: 'isolated-elements',
    specific: false,
    predict(context) {
      // Elements of x's shape: a loss that fails alone is one number off, not a stray element.
      const quantities = (['forward', 'grad'] as const).filter((q) => context.expected[q] !== undefined);
      if (quantities.some((q) => !perElement(context, q) && context.failing[q]?.includes(1))) return undefined;
      const total = quantities.filter((q) => perElement(context, q)).reduce((n, q) => n + context.expected[q]!.length, 0);
      const most = Math.max(1, Math.min(16, Math.floor(total / 100)));
      // Counted before they are listed: most failures are not a few.
      if (total < 16 || quantities.reduce((n, q) => n + countOf(context.failing[q]), 0) > most) return undefined;
      const failing = quantities.flatMap((q) => Array.from(indicesOf(context.failing[q]), (i) => [q, i] as const));
      const where = failing.slice(0, 3).map(([q, i]) => `${context.names[q]}${elementLabel(context, q, i)}`);
      return {
        accounts: { forward: context.failing.forward, grad: context.failing.grad },
        message: `${failing.length} element${failing.length === 1 ? '' : 's'} off (${where.join(', ')}${failing.length > 3 ? ', …' : ''}), the rest within rounding: a race, or a stale or unwritten element`,
        details: { elements: failing.length },
      };
    },
  },
];

/** Where exp overflows in each compute type: a logit past it, not shifted, is inf. */
const EXP_OVERFLOW: Readonly<Record<DType, number>> = { float64: 709.78, float32: 88.72, bfloat16: 88.72, float16: 11.09 };

function perElement(context: DiagnosisContext, q: Quantity): boolean {
  return context.expected[q] !== undefined && context.expected[q]!.length === context.x.data.length;
}

function failsIn(context: DiagnosisContext, q: Quantity): boolean {
  const failing = context.failing[q];
  return failing !== undefined && failing.includes(1);
}

function everyIn(layout: SliceLayout, test: (j: number) => boolean): boolean {
  for (let j = 0; j < layout.length; j++) if (!test(j)) return false;
  return true;
}


/** Element i of a quantity as an index into x's shape; a loss's by its own flat index, a single loss by none. */
function elementLabel(context: DiagnosisContext, q: Quantity, i: number): string {
  if (perElement(context, q)) return formatIndex(i, context.x.shape);
  return context.expected[q]!.length === 1 ? '' : `[${i}]`;
}

/** The slice element i of a quantity belongs to: x's for a value per element, one a slice for a loss per sample, every slice (-1) for one loss. */
function sliceOfElement(context: DiagnosisContext, q: Quantity, i: number): number {
  const { layout } = context;
  const length = context.expected[q]!.length;
  if (length === context.x.data.length) return sliceOf(layout, i);
  return length === layout.count ? i : -1;
}

/** The slices whose largest logit (as the op's softmax sees it) overflows exp, with the slice's sum n·exp(max), in the compute type; and the largest such logit. */
function overflowingSlices(context: DiagnosisContext): { has: (k: number) => boolean; peak: number | undefined } {
  const { layout, logits } = context;
  const limit = EXP_OVERFLOW[context.arithmetic.compute] - Math.log(layout.length);
  const marked = new Uint8Array(layout.count);
  let peak: number | undefined;
  for (let k = 0; k < layout.count; k++) {
    const max = largestFinite(logits, layout, k);
    if (max > limit) {
      marked[k] = 1;
      if (peak === undefined || max > peak) peak = max;
    }
  }
  return { has: (k) => k === -1 ? peak !== undefined : marked[k] === 1, peak };
}

/** The median of expected / exact over the failing elements where both are finite and the exact one is not 0. */
function commonRatio(expected: Float64Array, exact: Float64Array, failing: Uint8Array): number | undefined {
  const all = new Float64Array(Math.min(expected.length, RATIOS_KEPT));
  let count = 0;
  // Evenly spaced over the elements, at most RATIOS_KEPT of the failing ones: a median needs no more.
  const step = Math.max(1, Math.floor(expected.length / RATIOS_KEPT));
  for (let start = 0; start < step && count < all.length; start++) {
    for (let i = start; i < expected.length && count < all.length; i += step) {
      if (failing[i] === 1 && exact[i] !== 0 && Number.isFinite(exact[i]) && Number.isFinite(expected[i])) all[count++] = expected[i] / exact[i];
    }
  }
  // One ratio is no common factor: a single loss off by anything would fit it.
  if (count < 3) return undefined;
  const ratios = all.subarray(0, count).sort();
  return ratios[Math.floor(count / 2)];
}

const RATIOS_KEPT = 2001;

/** Of two predictions by the failing elements they account for, the one accounting for more. */
function moreAccounted(context: DiagnosisContext, a: Prediction | undefined, b: Prediction | undefined): Prediction | undefined {
  const accounted = (p: Prediction | undefined) =>
    p === undefined ? -1 : (['forward', 'grad'] as const).reduce((n, q) => n + (p.accounts?.[q]?.reduce((m, v, i) => m + (v & (context.failing[q]?.[i] ?? 0)), 0) ?? 0), 0);
  return accounted(b) > accounted(a) ? b : a;
}

/** Values stored in a narrower dtype than the run's (every one representable in it) that its allowance explains. */
function narrowerDType(context: DiagnosisContext): Prediction | undefined {
  for (const narrow of ['bfloat16', 'float16', 'float32'] as const) {
    if (UNIT_ROUNDOFF[narrow] <= UNIT_ROUNDOFF[context.dtype]) continue;
    const values = (['forward', 'grad'] as const).flatMap((q) => (context.expected[q] === undefined ? [] : [context.expected[q]!]));
    if (!values.every((v) => v.every((value) => !Number.isFinite(value) || roundToDType(value, narrow) === value))) continue;
    const accounts = withinAllowances(context, context.allowancesIn(narrow, DEFAULT_COMPUTE[narrow]));
    return { accounts, message: `every value is a ${narrow} value, judged as ${context.dtype}: the kernel stored ${narrow} (--dtype ${narrow})`, details: { dtype: narrow, flag: `--dtype ${narrow}` } };
  }
  return undefined;
}

/** A kernel that computes in the dtype itself, without the wider opmath the run assumes. */
function computesInDType(context: DiagnosisContext): Prediction | undefined {
  const { dtype, compute } = context.arithmetic;
  if (UNIT_ROUNDOFF[compute] >= UNIT_ROUNDOFF[dtype]) return undefined;
  const accounts = withinAllowances(context, context.allowancesIn(dtype, dtype));
  return { accounts, message: `rounded like a kernel that computes in ${dtype} itself, not in ${compute} (--compute ${dtype})`, details: { dtype, flag: `--compute ${dtype}` } };
}

function withinAllowances(context: DiagnosisContext, allowances: DiagnosisContext['allowances']): Partial<Record<Quantity, Uint8Array>> {
  const accounts: Partial<Record<Quantity, Uint8Array>> = {};
  for (const q of ['forward', 'grad'] as const) {
    const expected = context.expected[q];
    if (expected === undefined) continue;
    const exact = context.exact[q];
    const allowance = allowances[q];
    const failing = context.failing[q];
    const within = new Uint8Array(expected.length);
    // Only the failing elements count: the others are within the narrower allowance already.
    if (failing !== undefined) {
      for (let i = 0; i < expected.length; i++) {
        if (failing[i] === 1 && (expected[i] === exact[i] || Math.abs(expected[i] - exact[i]) <= allowed(allowance, i, exact[i]))) within[i] = 1;
      }
    }
    accounts[q] = within;
  }
  return accounts;
}
