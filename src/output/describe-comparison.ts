import { opDefinition } from '../ops/index.js';
import type { Extreme } from '../comparisons/assert-close.js';
import { quantityName, type Op } from '../op.js';
import { formatIndex } from '../tensor.js';
import { formatDifference, formatTolerance, formatValue } from './format-number.js';
import { quantityShape, SIDE_LABEL, sideValues, type Comparison, type Report } from '../core/report.js';
import { partsOf } from '../comparisons/assert-close.js';

/** `grad, explicit Jacobian vs closed form`, `grad, expected vs exact`. */
export function comparisonTitle(comparison: Comparison, op: Op | undefined): string {
  return `${quantityName(op, comparison.quantity)}, ${comparedSides(comparison)}`;
}

/** `explicit Jacobian vs closed form`. */
export function comparedSides(comparison: Comparison): string {
  return `${SIDE_LABEL[comparison.actual]} vs ${SIDE_LABEL[comparison.expected]}`;
}

/** `1.11e-16 at [8]`, or `0` when there is no difference at all. */
export function describeExtreme(found: Extreme, shape: readonly number[]): string {
  if (found.value === 0) return '0';
  // A single number (a reduced loss) has no index to name.
  return shape.length === 0 ? formatDifference(found.value) : `${formatDifference(found.value)} at ${formatIndex(found.index, shape)}`;
}

/**
 * One comparison on one line, with its worst element explained:
 * `grad, expected vs exact: mismatched 1 / 4000 (0.0%); worst [0, 892]: expected -0.0166, exact
 * -0.0154, |a − b| 1.22e-3 is 5.8 times the 2.1e-4 allowed (atol 1e-5 + rtol·|b| 2.46e-4 + ...)`.
 */
export function describeComparison(report: Report, comparison: Comparison): string {
  const { closeness } = comparison;
  const counts = `${comparisonTitle(comparison, report.input.op)}: mismatched ${closeness.mismatched} / ${closeness.total} (${mismatchPercent(comparison)})`;
  const worst = closeness.failures[0] ?? closeness.worst.index;
  if (worst < 0) return counts;
  return `${counts}; worst ${describeElement(report, comparison, worst)}`;
}

/**
 * Why one element passes or fails: both values, the difference, and the allowance it is held to
 * with each of its terms, so that a reader can see a failure is beyond rounding.
 * `[0, 892]: expected -0.0166, exact -0.0154, |a − b| 1.22e-3 is 5.8 times the 2.1e-4 allowed
 * (atol 1e-5 + rtol·|b| 2.46e-4 + rtol·s_i Σ s_j|g_j| 9.1e-6 + arithmetic 3e-8)`.
 */
export function describeElement(report: Report, comparison: Comparison, index: number): string {
  const a = sideValues(report, comparison.actual, comparison.quantity)[index];
  const b = sideValues(report, comparison.expected, comparison.quantity)[index];
  const where = formatIndex(index, quantityShape(report.input, comparison.quantity));
  const values = `${SIDE_LABEL[comparison.actual]} ${formatValue(a, 6)}, ${SIDE_LABEL[comparison.expected]} ${formatValue(b, 6)}`;
  if (!Number.isFinite(a) || !Number.isFinite(b)) {
    const verdict = a === b || (a !== a && b !== b) ? 'the same non-finite value' : 'a non-finite value matches only itself';
    return `${where}: ${values}: ${verdict}`;
  }
  const parts = partsOf(comparison.closeness, index);
  const { words } = opDefinition(report.input.op);
  const difference = Math.abs(a - b);
  const terms = [
    `atol ${formatTolerance(parts.atol)}`,
    `rtol·|b| ${formatDifference(parts.relative)}`,
    ...(comparison.quantity === 'grad'
      ? [`${words.cancellationTerm} ${formatDifference(parts.cancellation)}`]
      : parts.cancellation > 0 && words.forwardCancellationTerm !== undefined
        ? [`${words.forwardCancellationTerm} ${formatDifference(parts.cancellation)}`]
        : []),
    `arithmetic ${formatDifference(parts.arithmetic)}`,
  ].join(' + ');
  const share = difference === 0 ? '0' : `${formatDifference(difference)} is ${formatDifference(difference / parts.total)} times`;
  return `${where}: ${values}, |a − b| ${share} the ${formatDifference(parts.total)} allowed (${terms})`;
}

export function mismatchPercent(comparison: Comparison): string {
  const { mismatched, total } = comparison.closeness;
  return `${((100 * mismatched) / total).toFixed(1)}%`;
}

/**
 * When expected values fail only as a kernel without float32 opmath would, the flag that says so:
 * `hint: every failing element and sum is within what a kernel computing in bfloat16 ...`.
 */
export function describeComputeHint(report: Report): string[] {
  if (report.passesComputingInDtype !== true) return [];
  const { dtype } = report.input;
  return [
    `hint: every failing element and sum is within what a kernel computing in ${dtype} itself (no float32 opmath) can return, ` +
      `which allows much more: if, and only if, yours computes in ${dtype}, --compute ${dtype} says so`,
  ];
}
