import { WorstElements } from './worst-elements.js';
import { allowanceParts, allowed, type AllowanceParts, type ElementAllowance } from './allowance.js';

/**
 * Whether `a` is within `allowance` of `b`, the side taken as expected.
 *
 * Non-finite values are matched exactly, never through the formula: NaN matches only NaN, and
 * `±Infinity` only itself (the formula would call `Infinity` close to anything, since
 * `Infinity ≤ Infinity`).
 */
export function isClose(a: number, b: number, allowance: number): boolean {
  if (a === b) return true;
  if (a !== a || b !== b) return a !== a && b !== b;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= allowance;
}

/**
 * `a − b`, but 0 where the two match exactly (both NaN, or the same infinity), so that the
 * difference column shows agreement rather than NaN.
 */
export function difference(a: number, b: number): number {
  if (a === b || (a !== a && b !== b)) return 0;
  return a - b;
}

export interface Extreme {
  /** The greatest difference found; NaN outranks every number, as it does in torch's report. */
  readonly value: number;
  /** Flat index of the first element where it occurs, or -1 for empty input. */
  readonly index: number;
}

/** How many failing elements a comparison keeps for its report, the worst first. */
export const FAILURES_KEPT = 1000;

export interface Closeness {
  /** The allowance of the failures kept and of the worst element, term by term (data: the rule that made them stays here). */
  readonly explained: readonly ExplainedElement[];
  readonly total: number;
  readonly mismatched: number;
  readonly maxAbs: Extreme;
  readonly maxRel: Extreme;
  /** The greatest |a − b| / allowed (Infinity where a non-finite value is not matched). */
  readonly worst: Extreme;
  /** Flat indices of the failing elements with the greatest such ratios, worst first, up to FAILURES_KEPT. */
  readonly failures: readonly number[];
  /** 1 where the pair is close, 0 where it is not. */
  readonly closeMask: Uint8Array;
}

/** One element's allowance, split into its terms, for a report to explain it. */
export interface ExplainedElement {
  readonly index: number;
  readonly parts: AllowanceParts;
}

/** The explained allowance of element `index` (a failure kept, or the worst element). */
export function partsOf(closeness: Closeness, index: number): AllowanceParts {
  const found = closeness.explained.find((element) => element.index === index);
  if (found === undefined) throw new Error(`element ${index} was not kept to be explained`);
  return found.parts;
}

/** Compares `actual` with `expected` element by element and keeps what a report needs. */
export function compareClose(actual: Float64Array, expected: Float64Array, allowance: ElementAllowance): Closeness {
  const n = actual.length;
  const tally: Tally = {
    closeMask: new Uint8Array(n),
    failures: new WorstElements(FAILURES_KEPT),
    mismatched: 0,
    maxAbs: 0,
    maxAbsAt: n > 0 ? 0 : -1,
    maxRel: 0,
    maxRelAt: n > 0 ? 0 : -1,
    worst: 0,
    worstAt: n > 0 ? 0 : -1,
  };
  // In blocks, so that V8 optimises the loop early even over one slice of 10^7 elements.
  for (let from = 0; from < n; from += BLOCK) tallyBlock(actual, expected, allowance, from, Math.min(n, from + BLOCK), tally);
  const failures = tally.failures.indices();
  const shown = tally.worstAt >= 0 && !failures.includes(tally.worstAt) ? [...failures, tally.worstAt] : failures;
  return {
    explained: shown.map((index) => ({ index, parts: allowanceParts(allowance, index, expected[index]) })),
    total: n,
    mismatched: tally.mismatched,
    maxAbs: { value: tally.maxAbs, index: tally.maxAbsAt },
    maxRel: { value: tally.maxRel, index: tally.maxRelAt },
    worst: { value: tally.worst, index: tally.worstAt },
    failures,
    closeMask: tally.closeMask,
  };
}

const BLOCK = 4096;

interface Tally {
  readonly closeMask: Uint8Array;
  readonly failures: WorstElements;
  mismatched: number;
  maxAbs: number;
  maxAbsAt: number;
  maxRel: number;
  maxRelAt: number;
  worst: number;
  worstAt: number;
}

/** Elements [from, to) into the tally. */
function tallyBlock(actual: Float64Array, expected: Float64Array, allowance: ElementAllowance, from: number, to: number, tally: Tally): void {
  // The slice of element k, followed as k runs through the flat data: shape [outer, length, stride].
  const { length, stride } = allowance.terms.layout;
  const rest = from % (length * stride);
  let outer = (from - rest) / (length * stride);
  let along = Math.floor(rest / stride);
  let inner = rest % stride;
  for (let k = from; k < to; k++) {
    const a = actual[k];
    const b = expected[k];
    const abs = Math.abs(difference(a, b));
    const limit = allowed(allowance, k, b, outer * stride + inner);
    if (++inner === stride) {
      inner = 0;
      if (++along === length) {
        along = 0;
        outer++;
      }
    }
    const close = isClose(a, b, limit);
    if (close) tally.closeMask[k] = 1;
    // The ratios are divided out only where they may be the greatest (or the element fails): a
    // division per element was a fifth of a comparison's time.
    if (!close || abs > tally.worst * limit) {
      // How many allowances apart; an unmatched non-finite value (or allowance) is infinitely far.
      const ratio = abs === 0 ? 0 : Number.isFinite(a) && Number.isFinite(b) && limit === limit ? abs / limit : Infinity;
      if (!close) {
        tally.mismatched++;
        tally.failures.offer(k, ratio);
      }
      if (outranks(ratio, tally.worst)) {
        tally.worst = ratio;
        tally.worstAt = k;
      }
    }
    if (outranks(abs, tally.maxAbs)) {
      tally.maxAbs = abs;
      tally.maxAbsAt = k;
    }
    if (abs > tally.maxRel * Math.abs(b) || abs !== abs) {
      // 0/0 cannot happen here: difference() is 0 whenever a equals b.
      const rel = abs / Math.abs(b);
      if (outranks(rel, tally.maxRel)) {
        tally.maxRel = rel;
        tally.maxRelAt = k;
      }
    }
  }
}

function outranks(candidate: number, best: number): boolean {
  if (best !== best) return false;
  return candidate !== candidate || candidate > best;
}
