import { allowed, bothSidesRounded, type Allowances } from '../../comparisons/allowance.js';
import { resultOf, type Comparison, type Report } from '../../core/report.js';
import { arithmeticFor } from '../../numeric/arithmetic.js';
import { sliceLayout, sliceStart } from '../../numeric/slices.js';
import { ulpDistance } from '../../numeric/ulp.js';
import { opDefinition } from '../../ops/index.js';

/**
 * One comparison's errors, element by element, as the pictures draw them: |a − b|, what was
 * allowed there, and their ratio (0 where both match exactly, NaN and NaN included; Infinity where
 * a non-finite value meets another), with the grid the map lays them on (slices × elements along
 * the dim; a loss, one row). The allowances are rebuilt from the report as the judge built them.
 */
export interface ComparisonErrors {
  readonly actual: Float64Array;
  readonly reference: Float64Array;
  readonly difference: Float64Array;
  readonly allowed: Float64Array;
  readonly ratio: Float64Array;
  /** ulps of the actual values from the reference's, in the dtype: for the histogram. */
  readonly ulps: Float64Array;
  readonly rows: number;
  readonly columns: number;
  /** The flat index of the element at (row, column). */
  readonly at: (row: number, column: number) => number;
}

/** The report's allowances as the judge built them: once a report, for all its comparisons. */
export function reportAllowances(report: Report): Allowances {
  const { input } = report;
  const arithmetic = arithmeticFor(input.dtype, { compute: report.arithmetic.compute, accumulate: report.arithmetic.accumulate });
  return opDefinition(input.op).allowances(input, report.results.closedForm, sliceLayout(input.x.shape, input.axis), arithmetic, report.tolerance);
}

export function comparisonErrors(report: Report, comparison: Comparison, allowances: Allowances = reportAllowances(report)): ComparisonErrors {
  const { input } = report;
  const q = comparison.quantity;
  const layout = sliceLayout(input.x.shape, input.axis);
  const actual = comparison.actual === 'expected' ? input.expected![q]! : resultOf(report.results, comparison.actual)[q];
  const reference = comparison.expected === 'exact' ? report.exact![q] : report.results.closedForm[q];
  const allowance = comparison.actual === 'expected' ? allowances[q] : bothSidesRounded(allowances[q]);
  const n = actual.length;
  const difference = new Float64Array(n);
  const allowedHere = new Float64Array(n);
  const ratio = new Float64Array(n);
  const ulps = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [a, b] = [actual[i], reference[i]];
    const same = Object.is(a, b) || a === b || (a !== a && b !== b);
    difference[i] = same ? 0 : Math.abs(a - b);
    allowedHere[i] = allowed(allowance, i, b);
    ratio[i] = same ? 0 : Number.isFinite(a) && Number.isFinite(b) ? difference[i] / allowedHere[i] : Infinity;
    ulps[i] = same ? 0 : ulpDistance(a, b, input.dtype);
  }
  // A value per element lies on the slices × elements grid; a loss is one row of its own values.
  const perElement = n === input.x.data.length;
  return perElement
    ? { actual, reference, difference, allowed: allowedHere, ratio, ulps, rows: layout.count, columns: layout.length, at: (r, c) => sliceStart(layout, r) + c * layout.stride }
    : { actual, reference, difference, allowed: allowedHere, ratio, ulps, rows: 1, columns: n, at: (_, c) => c };
}
