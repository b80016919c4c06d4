import { opDefinition } from '../ops/index.js';
import { EPSILON } from '../dtype.js';
import type { InvariantCheck, SliceDeviation } from '../comparisons/invariants.js';
import { sliceLabel, sliceLayout } from '../numeric/slices.js';
import { SIDE_LABEL, type MethodId, type Report } from '../core/report.js';

/** `0.03`, `0.5`, `12`, `3.1e3`: invariant deviations are ratios, read for their size. */
export function formatInvariantUlps(ulps: number): string {
  if (ulps === 0) return '0';
  if (!Number.isFinite(ulps)) return ulps !== ulps ? 'NaN' : 'Infinity';
  if (ulps < 0.1) return String(Number(ulps.toPrecision(1)));
  if (ulps < 10) return ulps.toFixed(1);
  return ulps < 1e4 ? ulps.toFixed(0) : ulps.toExponential(1).replace('e+', 'e');
}

/** The rows the invariants table has: each method that ran, then the expected values. */
function invariantRows(report: Report): (MethodId | 'expected')[] {
  return [...report.methods, ...(report.invariants.expected === undefined ? [] : (['expected'] as const))];
}

/**
 * The worst slice of each law per method (and for the expected values), against what rounding
 * allows there, and how many slices are beyond it (flagged).
 */
export function renderInvariants(report: Report): string[] {
  const { input } = report;
  const layout = sliceLayout(input.x.shape, input.axis);
  const where = (slice: number): string => (slice < 0 ? '' : ` in ${sliceLabel(layout, input.x.shape, input.axis, slice)}`);
  const cell = (found: SliceDeviation | undefined): string => {
    if (found === undefined) return '—';
    if (found.slice < 0) return 'no slice';
    const within = found.ulps <= found.bound ? '≤' : '>';
    return `${formatInvariantUlps(found.ulps)} ${within} ${formatInvariantUlps(found.bound)}${where(found.slice)}`;
  };
  const rows = invariantRows(report).map((side) => {
    const check: InvariantCheck = report.invariants[side]!;
    const magnitudes = check.gradSumOfMagnitudes;
    return [
      SIDE_LABEL[side],
      cell(check.softmaxSum),
      cell(check.gradSum),
      `${check.flaggedSlices} / ${layout.count}`,
      magnitudes === undefined ? '—' : magnitudes.slice < 0 ? 'no slice' : `${formatInvariantUlps(magnitudes.ulps)}${where(magnitudes.slice)}`,
    ];
  });
  const { forwardSum, gradScale } = opDefinition(input.op).words;
  const fullHeader = ['', `${forwardSum} vs bound`, `|Σ dx| / ${gradScale} vs bound`, 'flagged', '|Σ dx| / Σ|dx| (not flagged)'];
  // cross_entropy's loss has no law: its column goes; forward only (no g), the gradient's go.
  const lawless = opDefinition(input.op).laws.forward === undefined;
  const kept = (_: unknown, c: number) => !(lawless && c === 1) && !(input.forwardOnly && (c === 2 || c === 4));
  const header = fullHeader.filter(kept);
  rows.forEach((row, r) => (rows[r] = row.filter(kept)));
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => row[c].length)));
  const line = (row: string[]): string => row.map((text, c) => text.padEnd(widths[c])).join('   ').trimEnd();
  return [
    `invariants, worst slice against what rounding allows there (flagged beyond), in units of ${input.dtype}'s epsilon 2^${Math.log2(EPSILON[input.dtype])}: ${lawless ? "each sample's gradient sums to 0" : input.forwardOnly ? 'probabilities sum to 1' : 'probabilities sum to 1, the gradient to 0'}`,
    line(header),
    ...rows.map(line),
  ];
}

/**
 * What the expected values' sums got wrong, for a verdict or a suite's report, e.g.
 * `expected: 1 / 4 slices sum beyond what rounding allows; worst, the gradient's |Σ dx| in [3, :]:
 * 7.3e13 units of ε·Σ s(|g| + |⟨s,g⟩|), where rounding allows 41`. Empty when nothing is flagged.
 */
export function describeExpectedInvariants(report: Report): string[] {
  const check = report.invariants.expected;
  if (check === undefined || check.flaggedSlices === 0) return [];
  const { input } = report;
  const layout = sliceLayout(input.x.shape, input.axis);
  const laws: string[] = [];
  const describe = (law: string, found: SliceDeviation | undefined, unit: string) => {
    if (found === undefined || found.slice < 0 || found.ulps <= found.bound) return;
    const at = sliceLabel(layout, input.x.shape, input.axis, found.slice);
    laws.push(`${law} in ${at}: ${formatInvariantUlps(found.ulps)} units of ${unit}, where rounding allows ${formatInvariantUlps(found.bound)}`);
  };
  const { forwardSum, gradScale } = opDefinition(input.op).words;
  describe(`the probabilities' ${forwardSum}`, check.softmaxSum, 'ε');
  describe("the gradient's |Σ dx|", check.gradSum, `ε·${gradScale}`);
  return [`expected: ${check.flaggedSlices} / ${layout.count} slices sum beyond what rounding allows; worst, ${laws.join('; ')}`];
}
