import type { Extreme } from '../math/assert-close.js';
import { formatIndex } from '../tensor.js';
import { METHOD_LABEL, type Comparison } from '../verify.js';
import { formatDifference, formatTolerance } from './format-number.js';

/** `grad, explicit Jacobian vs expected`. */
export function comparisonTitle(comparison: Comparison): string {
  const expected = comparison.expected === 'expected' ? 'expected' : METHOD_LABEL[comparison.expected];
  return `${comparison.quantity}, ${METHOD_LABEL[comparison.actual]} vs ${expected}`;
}

/** `1.11e-16 at [8]`, or `0` when there is no difference at all. */
export function describeExtreme(found: Extreme, shape: readonly number[]): string {
  if (found.value === 0) return '0';
  return `${formatDifference(found.value)} at ${formatIndex(found.index, shape)}`;
}

/**
 * One comparison on one line, in the words of torch.testing.assert_close:
 * `grad, explicit Jacobian vs expected: mismatched 1 / 28 (3.6%); greatest absolute difference
 * 0.01 at [3, 6] (up to 1e-7 allowed); greatest relative difference 0.2 at [3, 6] (up to 1e-7 allowed)`.
 */
export function describeComparison(comparison: Comparison, shape: readonly number[]): string {
  const { closeness } = comparison;
  const { rtol, atol } = closeness.tolerance;
  return (
    `${comparisonTitle(comparison)}: mismatched ${closeness.mismatched} / ${closeness.total} ` +
    `(${mismatchPercent(comparison)}); ` +
    `greatest absolute difference ${describeExtreme(closeness.maxAbs, shape)} (up to ${formatTolerance(atol)} allowed); ` +
    `greatest relative difference ${describeExtreme(closeness.maxRel, shape)} (up to ${formatTolerance(rtol)} allowed)`
  );
}

export function mismatchPercent(comparison: Comparison): string {
  const { mismatched, total } = comparison.closeness;
  return `${((100 * mismatched) / total).toFixed(1)}%`;
}
