import { EPSILON } from '../dtype.js';
import { INVARIANT_ULP_LIMIT, type InvariantCheck } from '../math/invariants.js';
import { sliceLabel, sliceLayout } from '../math/slices.js';
import { METHOD_LABEL, type Report } from '../verify.js';

/** `0.5`, `12`, `3.1e3`: invariant deviations are ratios, read for their size. */
export function formatInvariantUlps(ulps: number): string {
  if (ulps === 0) return '0';
  if (ulps < 10) return ulps.toFixed(1);
  return ulps < 1e4 ? ulps.toFixed(0) : ulps.toExponential(1).replace('e+', 'e');
}

/** The worst deviation of each law per method, with its slice, and how many slices are flagged. */
export function renderInvariants(report: Report): string[] {
  const { input } = report;
  const layout = sliceLayout(input.x.shape, input.axis);
  const where = (slice: number): string => (slice < 0 ? '' : ` in ${sliceLabel(layout, input.x.shape, input.axis, slice)}`);
  const cell = (found: { ulps: number; slice: number }): string =>
    found.slice < 0 ? 'no slice' : `${formatInvariantUlps(found.ulps)}${where(found.slice)}`;
  const rows = report.methods.map((method) => {
    const check: InvariantCheck = report.invariants[method]!;
    return [METHOD_LABEL[method], cell(check.softmaxSum), cell(check.gradSum), `${check.flaggedSlices} / ${layout.count}`, cell(check.gradSumOfMagnitudes)];
  });
  const header = ['', '|Σ s − 1|', '|Σ dx| / Σ s(|g| + |⟨s,g⟩|)', 'flagged', '|Σ dx| / Σ|dx| (not flagged)'];
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => row[c].length)));
  const line = (row: string[]): string => row.map((text, c) => text.padEnd(widths[c])).join('   ').trimEnd();
  return [
    `invariants, worst slice, in units of ${input.dtype}'s epsilon 2^${Math.log2(EPSILON[input.dtype])} (flagged beyond ${INVARIANT_ULP_LIMIT}): probabilities sum to 1, the gradient to 0`,
    line(header),
    ...rows.map(line),
  ];
}
