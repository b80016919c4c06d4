import { formatIndex, formatShape } from '../tensor.js';
import { describeDiagnosis } from './describe-diagnosis.js';
import { comparedSides, comparisonTitle, describeComputeHint, describeElement, describeExtreme, mismatchPercent } from './describe-comparison.js';
import { renderAccuracy } from './render-accuracy.js';
import { describeExpectedInvariants, renderInvariants } from './render-invariants.js';
import { formatDifference, formatTolerance, formatValue } from './format-number.js';
import { printable } from '../printable.js';
import { describeBudget, FLAG_WORDS } from '../core/describe-budget.js';
import { quantityName, type Op } from '../op.js';
import { opDefinition } from '../ops/index.js';
import { selectRows } from './row-selection.js';
import { METHOD_LABEL, QUANTITIES, resultOf, type DTypeOrigin, type MethodId, type Report, type SliceNote, quantityShape } from '../core/report.js';

/** Colours as the renderer uses them; the CLI maps them onto chalk, tests pass `PLAIN`. */
export interface Palette {
  readonly good: (text: string) => string;
  readonly bad: (text: string) => string;
  readonly warn: (text: string) => string;
  readonly faint: (text: string) => string;
  readonly strong: (text: string) => string;
}

const same = (text: string): string => text;
export const PLAIN: Palette = { good: same, bad: same, warn: same, faint: same, strong: same };

export interface TextOptions {
  /** Significant digits of the value columns. */
  readonly precision: number;
  /** Rows shown at each end of a long table, or every row. */
  readonly rows: number | 'all';
  readonly palette: Palette;
  /** `--summary`: the header, the comparisons and the verdict only. */
  readonly summary?: boolean;
}

export const DEFAULT_PRECISION = 8;
export const DEFAULT_EDGE_ROWS = 10;
/** Failing elements explained per comparison, the worst first; the JSON report lists more. */
export const FAILING_ELEMENTS_SHOWN = 10;

const METHOD_SHORT_LABEL: Readonly<Record<MethodId, string>> = {
  jacobian: 'Jacobian (J)',
  closedForm: 'closed (C)',
  accurate: 'accurate (A)',
};
const MARK_OK = '✓';
const MARK_FAIL = '✗';

/** The human report: a header, the side-by-side table, one line per comparison, the verdict and the likely bug. */
export function renderText(report: Report, options: TextOptions): string {
  if (options.summary) {
    // The expected values' sums stay: the verdict may name them.
    const lines = [
      ...renderHeader(report, options.palette),
      '',
      ...renderComparisons(report),
      ...describeExpectedInvariants(report),
      '',
      renderVerdict(report, options.palette),
      ...describeDiagnosis(report),
    ];
    return `${lines.join('\n')}\n`;
  }
  const lines = [
    ...renderHeader(report, options.palette),
    '',
    ...renderTable(report, options),
    ...renderLoss(report, options),
    ...renderNotes(report.sliceNotes, report.input.op, options.palette),
    '',
    ...renderComparisons(report),
    ...renderFailingElements(report),
    ...renderFiniteDifferences(report),
    ...(report.reference === undefined ? [] : ['', ...renderAccuracy(report)]),
    ...(report.referenceSkipped === undefined ? [] : ['', `ulps from the correctly rounded result: ${describeBudget(report.referenceSkipped, FLAG_WORDS)}`]),
    '',
    ...renderInvariants(report),
    ...describeExpectedInvariants(report),
    ...describeComputeHint(report),
    '',
    renderVerdict(report, options.palette),
    ...describeDiagnosis(report),
  ];
  return `${lines.join('\n')}\n`;
}

const DTYPE_ORIGIN: Readonly<Record<DTypeOrigin, string>> = {
  flag: 'from --dtype',
  input: "the input's",
  data: 'as the arrays are stored',
  default: 'the default; --dtype sets it',
};

function renderHeader(report: Report, palette: Palette): string[] {
  const { input } = report;
  const slices = input.x.data.length / input.x.shape[input.axis];
  const lines = [
    palette.strong(`softmax-verify: ${printable(input.label)}`),
    `x: shape ${formatShape(input.x.shape)}, ${input.op} along dim ${input.dim} ` +
      `(${plural(slices, 'slice')} of ${input.x.shape[input.axis]}), dtype ${input.dtype}${input.dtypeFrom === undefined ? '' : ` (${DTYPE_ORIGIN[input.dtypeFrom]})`}`,
  ];
  if (report.jacobianSkipped !== undefined) {
    lines.push(palette.warn(`explicit Jacobian skipped: ${describeBudget(report.jacobianSkipped, FLAG_WORDS, { count: slices, length: input.x.shape[input.axis] })}; the accurate closed form stands in as the second witness`));
  }
  const { arithmetic } = report;
  // An input that carries its kernel's arithmetic (a fixture's "arithmetic") runs in it unless flags say otherwise.
  const inputs = arithmetic.fromInput ? " (the input's)" : '';
  if (arithmetic.dtype !== 'float64' || arithmetic.compute !== 'float64') {
    lines.push(
      `arithmetic: x and g rounded to ${arithmetic.dtype}; operations in ${arithmetic.compute}, sums in ${arithmetic.accumulate}, ` +
        `results stored in ${arithmetic.dtype}${inputs}`,
    );
  } else if (arithmetic.accumulate !== 'float64') {
    lines.push(`arithmetic: float64, sums in ${arithmetic.accumulate}${inputs}`);
  }
  const fieldsOut = opDefinition(input.op).fieldsOut;
  if (input.spec !== undefined && fieldsOut !== undefined) lines.push(fieldsOut.described(input.spec, input.g, (value) => formatValue(value, 8)));
  if (input.forwardOnly) lines.push(`gradient: not checked, as no g was given (--g gives the upstream gradient): the ${quantityName(input.op, 'forward')} alone is checked`);
  if (input.description !== undefined) lines.push(`about: ${printable(input.description)}`);
  if (input.expected !== undefined) lines.push(`expected: ${input.source === undefined ? 'source not given (--source names it)' : printable(input.source)}`);
  return lines;
}

interface Column {
  readonly header: string;
  readonly cell: (k: number) => string;
}

function renderTable(report: Report, options: TextOptions): string[] {
  const { input, results, differences } = report;
  const { precision, palette } = options;
  const value = (data: Float64Array) => (k: number) => formatValue(data[k], precision);

  const groups: { title: string; columns: Column[] }[] = [
    {
      title: '',
      columns: [
        { header: 'index', cell: (k) => formatIndex(k, input.x.shape) },
        { header: 'x', cell: value(input.x.data) },
        // cross_entropy's g is the loss's (one number, or one a sample): the header says it.
        ...(!opDefinition(input.op).forwardPerElement || input.forwardOnly ? [] : [{ header: 'g', cell: value(input.g.data) }]),
      ],
    },
  ];
  // The rows are x's elements; cross_entropy's loss is not one of them (renderLoss shows it).
  for (const quantity of !opDefinition(input.op).forwardPerElement ? (['grad'] as const) : input.forwardOnly ? (['forward'] as const) : QUANTITIES) {
    const columns: Column[] = report.methods.map((method) => ({
      header: METHOD_SHORT_LABEL[method],
      cell: value(resultOf(results, method)[quantity]),
    }));
    const expected = input.expected?.[quantity];
    if (expected !== undefined) columns.push({ header: 'expected', cell: value(expected) });
    const witness = report.witness === 'jacobian' ? 'J' : 'A';
    columns.push({ header: `${witness} − C`, cell: (k) => formatDifference(differences[quantity][k]) });
    groups.push({ title: quantityName(input.op, quantity), columns });
  }

  // --rows n bounds the failing rows between the ends too: a table of at most 3n rows.
  const { rows, failingHidden } = selectRows(report.rowClose, options.rows);
  if (rows.length === 0) {
    const n = report.rowClose.length;
    return [palette.faint(`table not shown: ${plural(n, 'row')}${failingHidden > 0 ? `, ${failingHidden} failing` : ''} (--rows 1 or more shows some)`)];
  }
  const cells = groups.map((group) => group.columns.map((column) => rows.map((k) => column.cell(k))));
  // A reduce, not Math.max(...cells): spreading a million-row column would overflow the stack.
  const widths = groups.map((group, gi) =>
    group.columns.map((column, ci) => cells[gi][ci].reduce((w, c) => Math.max(w, c.length), column.header.length)),
  );
  const groupWidth = (gi: number): number => widths[gi].reduce((a, b) => a + b, 0) + 2 * (widths[gi].length - 1);
  const joinGroups = (parts: string[]): string => parts.join(palette.faint(' │ '));

  const titleLine = joinGroups(groups.map((group, gi) => centre(group.title, groupWidth(gi), '─', palette)));
  const headerLine = joinGroups(
    groups.map((group, gi) => group.columns.map((column, ci) => column.header.padStart(widths[gi][ci])).join('  ')),
  );
  const lines = [titleLine, palette.strong(headerLine)];

  let previous = -1;
  rows.forEach((k, r) => {
    if (k !== previous + 1) lines.push(palette.faint(gapLine(k - previous - 1)));
    previous = k;
    const body = joinGroups(
      groups.map((_, gi) => cells[gi].map((column, ci) => column[r].padStart(widths[gi][ci])).join('  ')),
    );
    const close = report.rowClose[k] === 1;
    lines.push(close ? `${body}  ${palette.good(MARK_OK)}` : palette.bad(`${body}  ${MARK_FAIL}`));
  });
  const n = report.rowClose.length;
  if (previous !== n - 1) lines.push(palette.faint(gapLine(n - 1 - previous)));
  if (failingHidden > 0) {
    lines.push(palette.bad(`${plural(failingHidden, 'more failing row')} not shown (a larger --rows, or --rows all, shows them)`));
  }
  return lines;
}

/** `target: class indices, reduction mean, label_smoothing 0.1, ignore_index -100, weights; g 0.5`. */
/** cross_entropy's loss by each method (one number, or the first and last of one a sample). */
function renderLoss(report: Report, options: TextOptions): string[] {
  const { input, results } = report;
  if (opDefinition(input.op).forwardPerElement) return [];
  const values = (data: Float64Array | undefined) => (k: number) => (data === undefined ? '' : formatValue(data[k], options.precision));
  const columns: Column[] = [
    ...report.methods.map((method) => ({ header: METHOD_SHORT_LABEL[method], cell: values(resultOf(results, method).forward) })),
    ...(input.expected?.forward === undefined ? [] : [{ header: 'expected', cell: values(input.expected.forward) }]),
    { header: `${report.witness === 'jacobian' ? 'J' : 'A'} − C`, cell: (k: number) => formatDifference(report.differences.forward[k]) },
  ];
  const n = results.closedForm.forward.length;
  const shown = options.rows === 'all' ? Number.MAX_SAFE_INTEGER : Math.max(1, options.rows);
  const rows = n <= 2 * shown ? [...Array(n).keys()] : [...Array(shown).keys(), ...Array.from({ length: shown }, (_, i) => n - shown + i)];
  const samples = input.x.shape.filter((_, d) => d !== input.axis);
  // One loss for the whole input (mean, sum; one sample's) has no index; one a sample has its sample's.
  const single = quantityShape(input, 'forward').length === 0;
  const index = (k: number) => (single ? '' : formatIndex(k, samples));
  const cells = rows.map((k) => [index(k), ...columns.map((column) => column.cell(k))]);
  const header = [single ? 'loss' : 'loss at', ...columns.map((column) => column.header)];
  const widths = header.map((title, c) => Math.max(title.length, ...cells.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  const lines = ['', options.palette.strong(line(header)), ...cells.map(line)];
  if (n > rows.length) lines.push(options.palette.faint(`  ⋮  ${plural(n - rows.length, 'sample')} not shown (--format json has every one)`));
  return lines;
}

function gapLine(hidden: number): string {
  return `  ⋮  ${plural(hidden, 'row')} not shown (--rows all shows every row)`;
}

function centre(title: string, width: number, fill: string, palette: Palette): string {
  if (title === '') return ' '.repeat(width);
  const label = ` ${title} `;
  const left = Math.max(0, Math.floor((width - label.length) / 2));
  const right = Math.max(0, width - label.length - left);
  return palette.faint(fill.repeat(left)) + palette.strong(label) + palette.faint(fill.repeat(right));
}

const NOTE_CAUSE: Readonly<Record<SliceNote['reason'], string>> = {
  'all-masked': 'has every logit -Infinity',
  'nan-logit': 'has a NaN logit',
  'positive-infinite-logit': 'has a +Infinity logit',
  'fully-masked': 'has every element masked out',
};

/** What a slice with no proper softmax becomes, in the words of its op: what the table shows there. */
export function describeSliceNote(note: SliceNote, op: Op): string {
  return opDefinition(op).words.sliceNote(note, NOTE_CAUSE[note.reason]);
}

function renderNotes(notes: readonly SliceNote[], op: Op, palette: Palette): string[] {
  if (notes.length === 0) return [];
  return ['', ...notes.map((note) => palette.warn(`note: ${describeSliceNote(note, op)}`))];
}

function renderComparisons(report: Report): string[] {
  const { tolerance, toleranceOrigin, input, arithmetic } = report;
  const origin =
    toleranceOrigin === 'dtype' ? `${input.dtype} default` : toleranceOrigin === 'input' ? 'from the input' : 'from --rtol/--atol';
  const rows = report.comparisons.map((comparison) => {
    const { closeness } = comparison;
    return [
      quantityName(input.op, comparison.quantity),
      comparedSides(comparison),
      `${closeness.mismatched} / ${closeness.total} (${mismatchPercent(comparison)})`,
      describeExtreme(closeness.maxAbs, quantityShape(input, comparison.quantity)),
      describeExtreme(closeness.worst, quantityShape(input, comparison.quantity)),
    ];
  });
  const header = ['', 'a vs b', 'mismatched', 'greatest |a − b|', 'worst |a − b| / allowed'];
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => row[c].length)));
  const line = (row: string[]): string => row.map((cell, c) => cell.padEnd(widths[c])).join('   ').trimEnd();
  const sums = arithmetic.accumulate === arithmetic.compute ? 'and sums' : `and ${arithmetic.accumulate} sums`;
  const { words } = opDefinition(input.op);
  const rule =
    input.forwardOnly
      ? [
          `close: |a − b| ≤ atol + rtol·|b| + arithmetic, rtol ${formatTolerance(tolerance.rtol)}, atol ${formatTolerance(tolerance.atol)} (${origin})`,
          `       arithmetic: the rounding of ${arithmetic.compute} operations ${sums} (docs/verdict.md)`,
        ]
      : [
          `close: |a − b| ≤ ${words.closeRule}, rtol ${formatTolerance(tolerance.rtol)}, atol ${formatTolerance(tolerance.atol)} (${origin})`,
          `       ${words.closeRuleTerms}; arithmetic: the rounding of ${arithmetic.compute} operations ${sums} (docs/verdict.md)`,
        ];
  return [
    ...rule,
    line(header),
    ...rows.map(line),
  ];
}

/** The worst failing elements of each failing comparison, each with its allowance spelled out. */
function renderFailingElements(report: Report): string[] {
  const lines: string[] = [];
  for (const comparison of report.comparisons) {
    const { failures, mismatched } = comparison.closeness;
    if (mismatched === 0) continue;
    lines.push('', `${comparisonTitle(comparison, report.input.op)}: ${plural(mismatched, 'element')} beyond the allowance, the worst first`);
    for (const index of failures.slice(0, FAILING_ELEMENTS_SHOWN)) lines.push(`  ${describeElement(report, comparison, index)}`);
    const more = mismatched - Math.min(failures.length, FAILING_ELEMENTS_SHOWN);
    if (more > 0) lines.push(`  and ${plural(more, 'more')} (--format json lists up to ${plural(failures.length, 'element')}, each with its allowance)`);
  }
  return lines;
}

function renderFiniteDifferences(report: Report): string[] {
  const fd = report.finiteDifferences;
  if (fd === undefined) return [];
  const ratio = fd.worst.value < 0.01 ? 'under 0.01' : formatDifference(fd.worst.value);
  const worst = fd.worst.index < 0 ? '' : `; the greatest |fd − closed form| is ${ratio} of its tolerance, at ${formatIndex(fd.worst.index, report.input.x.shape)}`;
  return [
    `grad, finite differences of ⟨g, softmax(x)⟩ vs closed form (central, step ε^(1/3)·max(1, |x_i|) in ${report.arithmetic.dtype}; ` +
      `a tolerance per element from the step's truncation and rounding): mismatched ${fd.mismatched} / ${fd.total}${worst}`,
  ];
}

/** The verdict's line: PASS and who agreed, or FAIL and each comparison, sum and check that failed. */
export function renderVerdict(report: Report, palette: Palette): string {
  if (report.passed) {
    const names = report.methods.map((method) => `the ${METHOD_LABEL[method]}`);
    const who = names.length === 2 ? names.join(' and ') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    const withExpected = report.input.expected !== undefined ? ', and the expected values are within rounding of the exact result' : '';
    const forwardOnly = report.input.forwardOnly ? ` (the ${quantityName(report.input.op, 'forward')} alone: no g, so the gradient was not checked)` : '';
    return palette.good(`PASS: ${who} agree${withExpected}${forwardOnly}`);
  }
  const failed = report.comparisons
    .filter((c) => c.closeness.mismatched > 0)
    .map((c) => `${comparisonTitle(c, report.input.op)} (${c.closeness.mismatched} / ${c.closeness.total})`);
  const fd = report.finiteDifferences;
  if (fd !== undefined && fd.mismatched > 0) failed.push(`grad, finite differences vs closed form (${fd.mismatched} / ${fd.total})`);
  const sums = report.invariants.expected?.flaggedSlices ?? 0;
  if (sums > 0) failed.push(`the expected values' sums (${sums} / ${report.rowClose.length / report.input.x.shape[report.input.axis]} slices)`);
  return palette.bad(`FAIL: ${failed.join('; ')}`);
}

function plural(count: number, noun: string): string {
  // Not toLocaleString: its first call loads ICU data, about 10 ms of a 50 ms start-up.
  const digits = String(count).replace(/\B(?=(\d{3})+$)/g, ',');
  return `${digits} ${noun}${count === 1 ? '' : 's'}`;
}
