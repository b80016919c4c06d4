import type { DType } from '../dtype.js';
import { ulpDistance } from '../numeric/ulp.js';
import type { Extreme } from './assert-close.js';

export interface UlpAccuracy {
  /** Elements with a defined reference (where it is NaN there is nothing to measure against). */
  readonly total: number;
  /** Elements that are not the correctly rounded value: more than 0 ulps away. */
  readonly notCorrectlyRounded: number;
  /** The greatest distance in ulps of the dtype, and the first element where it occurs. */
  readonly maxUlps: Extreme;
}

/**
 * How far `values` are from the correctly rounded `reference`, in ulps of `dtype` (numpy's
 * nulp_diff). A NaN value against a numeric reference is infinitely far.
 */
export function ulpAccuracy(values: Float64Array, reference: Float64Array, dtype: DType): UlpAccuracy {
  let total = 0;
  let notCorrectlyRounded = 0;
  let max = 0;
  let maxAt = -1;
  for (let k = 0; k < values.length; k++) {
    const exact = reference[k];
    if (exact !== exact) continue;
    total++;
    // Most elements of a good method are the correctly rounded value itself.
    const ulps = values[k] === exact ? 0 : ulpDistance(values[k], exact, dtype);
    if (ulps > 0) notCorrectlyRounded++;
    if (ulps > max || maxAt < 0) {
      max = ulps;
      maxAt = k;
    }
  }
  return { total, notCorrectlyRounded, maxUlps: { value: max, index: maxAt } };
}
