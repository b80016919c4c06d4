import { sliceOf, type SliceLayout } from '../numeric/slices.js';

/**
 * One quantity's allowances, element by element: what rounding allows a correct kernel at each
 * element (each op derives its own: docs/verdict.md). The terms are made when asked for, from the
 * inputs and a few sums per slice, so that the allowances of 10^7 elements take no memory of their
 * own: plain data, and the op's rule, one object per op, which reads them.
 */
export interface ElementAllowance {
  readonly atol: number;
  readonly terms: { readonly layout: SliceLayout };
  /**
   * Both sides are rounded results (one method against another), not one against the exact
   * value: each may be off by the whole rounding allowance, in opposite directions.
   */
  readonly bothSidesRounded?: boolean;
  readonly rule: AllowanceRule;
}

/**
 * An op's allowance of element i of slice k against the value b, one side's rounding: in all, and
 * in its parts. The dispatch below adds atol and doubles it for two rounded sides, for every op.
 * (Methods, not function properties: an op's rule reads its own kind of allowance.)
 */
export interface AllowanceRule<A extends ElementAllowance = ElementAllowance> {
  rounding(allowance: A, i: number, b: number, k: number): number;
  parts(allowance: A, i: number, b: number, k: number): { readonly relative: number; readonly cancellation: number; readonly arithmetic: number };
}

/** The allowance of one element split into its terms, for a report to explain a failure. */
export interface AllowanceParts {
  readonly atol: number;
  /** rtol·|b|. */
  readonly relative: number;
  /** What cancellation allows beyond the plain tolerance. */
  readonly cancellation: number;
  /** The rounding of the arithmetic, with underflow. */
  readonly arithmetic: number;
  readonly total: number;
}

/** Per slice: how far a correct kernel's sums may stray from their laws (Σ s = 1, Σ dx = 0). */
export interface SliceBounds {
  readonly softmaxSum: Float64Array;
  readonly gradSum: Float64Array;
}

/** An input's allowances: the forward output's and the gradient's elements, and the slices' sums. */
export interface Allowances {
  readonly forward: ElementAllowance;
  readonly grad: ElementAllowance;
  readonly slices: SliceBounds;
  /**
   * The sums' bounds for expected values: `slices`, plus, when the tolerance is looser than the
   * dtype's default, what it allows each element summed over the slice. A looser tolerance says
   * the values are approximate to that extent (printed to 4 decimals, a fast exponential), and
   * their sums cannot be better.
   */
  readonly expectedSlices: SliceBounds;
}

/** The same allowance for comparing two rounded results with each other. */
export function bothSidesRounded<A extends ElementAllowance>(allowance: A): A {
  return { ...allowance, bothSidesRounded: true };
}

/**
 * `allowanceParts(...).total`, without the parts: the comparisons' inner loop, which knows each
 * element's slice `k` as it goes.
 */
export function allowed(allowance: ElementAllowance, i: number, b: number, k: number = sliceOf(allowance.terms.layout, i)): number {
  const rounding = allowance.rule.rounding(allowance, i, b, k);
  return allowance.atol + (allowance.bothSidesRounded ? 2 * rounding : rounding);
}

export function allowanceParts(allowance: ElementAllowance, i: number, b: number): AllowanceParts {
  const k = sliceOf(allowance.terms.layout, i);
  const sides = allowance.bothSidesRounded ? 2 : 1;
  const parts = allowance.rule.parts(allowance, i, b, k);
  return {
    atol: allowance.atol,
    relative: sides * parts.relative,
    cancellation: sides * parts.cancellation,
    arithmetic: sides * parts.arithmetic,
    total: allowed(allowance, i, b, k),
  };
}
