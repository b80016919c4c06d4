import type { Tolerance } from '../dtype.js';

/**
 * Element-wise closeness in the manner of `torch.testing.assert_close`:
 * `|a − b| ≤ atol + rtol·|b|`, with `b` the side taken as expected.
 *
 * Non-finite values are matched exactly, never through the formula: NaN matches only NaN, and
 * `±Infinity` only itself (the formula would call `Infinity` close to anything, since
 * `Infinity ≤ Infinity`).
 */
export function isClose(a: number, b: number, tol: Tolerance): boolean {
  if (a === b) return true;
  if (a !== a || b !== b) return a !== a && b !== b;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(b);
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

export interface Closeness {
  readonly tolerance: Tolerance;
  readonly total: number;
  readonly mismatched: number;
  readonly maxAbs: Extreme;
  readonly maxRel: Extreme;
  /** 1 where the pair is close, 0 where it is not. */
  readonly closeMask: Uint8Array;
}

/** Compares `actual` with `expected` element by element and keeps what a report needs. */
export function compareClose(actual: Float64Array, expected: Float64Array, tol: Tolerance): Closeness {
  const n = actual.length;
  const closeMask = new Uint8Array(n);
  let mismatched = 0;
  let maxAbs = 0;
  let maxAbsAt = n > 0 ? 0 : -1;
  let maxRel = 0;
  let maxRelAt = n > 0 ? 0 : -1;
  for (let k = 0; k < n; k++) {
    const a = actual[k];
    const b = expected[k];
    if (isClose(a, b, tol)) closeMask[k] = 1;
    else mismatched++;
    const abs = Math.abs(difference(a, b));
    // 0/0 cannot happen here: difference() is 0 whenever a equals b, and then rel is 0 too.
    const rel = abs === 0 ? 0 : abs / Math.abs(b);
    if (outranks(abs, maxAbs)) {
      maxAbs = abs;
      maxAbsAt = k;
    }
    if (outranks(rel, maxRel)) {
      maxRel = rel;
      maxRelAt = k;
    }
  }
  return {
    tolerance: tol,
    total: n,
    mismatched,
    maxAbs: { value: maxAbs, index: maxAbsAt },
    maxRel: { value: maxRel, index: maxRelAt },
    closeMask,
  };
}

function outranks(candidate: number, best: number): boolean {
  if (best !== best) return false;
  return candidate !== candidate || candidate > best;
}
