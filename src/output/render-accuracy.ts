import type { ReferenceEngine } from '../reference/reference-slice.js';
import { formatIndex } from '../tensor.js';
import { quantityName } from '../op.js';
import { METHOD_LABEL, QUANTITIES, quantityShape, type Accuracy, type Report } from '../core/report.js';

export const ENGINE_LABEL: Readonly<Record<ReferenceEngine, string>> = {
  'double-double': 'double-double, about 32 significant digits',
  bignumber: 'mathjs BigNumber, 64 significant digits and more',
};

/** `0`, `3`, `4.3e18`; NaN against a number is `inf`. */
export function formatUlps(ulps: number): string {
  if (ulps === Infinity) return 'inf';
  return ulps < 1e6 ? String(ulps) : ulps.toExponential(1).replace('e+', 'e');
}

/** `max 2 at [5], 3 / 9 off` for one method and quantity. */
export function describeAccuracy(accuracy: Accuracy, shape: readonly number[]): string {
  const { maxUlps, notCorrectlyRounded, total } = accuracy;
  if (total === 0) return 'no reference';
  if (maxUlps.value === 0) return `0, all ${total} exact`;
  return `max ${formatUlps(maxUlps.value)} at ${formatIndex(maxUlps.index, shape)}, ${notCorrectlyRounded} / ${total} off`;
}

/**
 * The accuracy table: for softmax and grad, how many ulps of the dtype each method (and the
 * expected values) lands from the correctly rounded result, and how many elements are not it.
 */
export function renderAccuracy(report: Report): string[] {
  const { reference, input } = report;
  if (reference === undefined) return [];
  const columns = [...report.methods, ...(input.expected === undefined ? [] : (['expected'] as const))];
  const header = ['', ...columns.map((of) => (of === 'expected' ? 'expected' : METHOD_LABEL[of]))];
  // Forward only (no g), the gradient has no figures.
  const rows = QUANTITIES.filter((quantity) => reference.accuracy.some((a) => a.quantity === quantity)).map((quantity) => [
    quantityName(input.op, quantity),
    ...columns.map((of) => {
      const found = reference.accuracy.find((a) => a.quantity === quantity && a.of === of);
      return found === undefined ? '—' : describeAccuracy(found, quantityShape(input, quantity));
    }),
  ]);
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => row[c].length)));
  const line = (row: string[]): string => row.map((cell, c) => cell.padEnd(widths[c])).join('   ').trimEnd();
  const byBigNumber =
    reference.engine === 'double-double' && reference.slicesByBigNumber > 0
      ? `; ${reference.slicesByBigNumber} slice(s) too close to call went to BigNumber`
      : '';
  return [
    `ulps of ${input.dtype} from the correctly rounded result (reference: ${ENGINE_LABEL[reference.engine]}${byBigNumber}); "off" counts the elements that are not it`,
    line(header),
    ...rows.map(line),
  ];
}
