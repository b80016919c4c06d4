import { allowed, type ElementAllowance } from './allowance.js';
import { WorstElements } from './worst-elements.js';

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
  readonly allowance: ElementAllowance;
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

/** Compares `actual` with `expected` element by element and keeps what a report needs. */
export function compareClose(actual: Float64Array, expected: Float64Array, allowance: ElementAllowance): Closeness {
  const n = actual.length;
  const closeMask = new Uint8Array(n);
  const failures = new WorstElements(FAILURES_KEPT);
  let mismatched = 0;
  let maxAbs = 0;
  let maxAbsAt = n > 0 ? 0 : -1;
  let maxRel = 0;
  let maxRelAt = n > 0 ? 0 : -1;
  let worst = 0;
  let worstAt = n > 0 ? 0 : -1;
  for (let k = 0; k < n; k++) {
    const a = actual[k];
    const b = expected[k];
    const abs = Math.abs(difference(a, b));
    const limit = allowed(allowance, k, b);
    const close = isClose(a, b, limit);
    // 0/0 cannot happen here: difference() is 0 whenever a equals b, and then both ratios are 0 too.
    const rel = abs === 0 ? 0 : abs / Math.abs(b);
    // How many allowances apart; an unmatched non-finite value (or allowance) is infinitely far.
    const ratio = abs === 0 ? 0 : Number.isFinite(a) && Number.isFinite(b) && limit === limit ? abs / limit : Infinity;
    if (close) closeMask[k] = 1;
    else {
      mismatched++;
      failures.offer(k, ratio);
    }
    if (outranks(abs, maxAbs)) {
      maxAbs = abs;
      maxAbsAt = k;
    }
    if (outranks(rel, maxRel)) {
      maxRel = rel;
      maxRelAt = k;
    }
    if (outranks(ratio, worst)) {
      worst = ratio;
      worstAt = k;
    }
  }
  return {
    allowance,
    total: n,
    mismatched,
    maxAbs: { value: maxAbs, index: maxAbsAt },
    maxRel: { value: maxRel, index: maxRelAt },
    worst: { value: worst, index: worstAt },
    failures: failures.indices(),
    closeMask,
  };
}

function outranks(candidate: number, best: number): boolean {
  if (best !== best) return false;
  return candidate !== candidate || candidate > best;
}
