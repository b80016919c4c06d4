import type { FixtureOutcome } from '../check/check-fixture.js';
import type { CheckRun } from '../check/run-check.js';
import { formatShape } from '../tensor.js';
import { outcomeDetails, summaryLine } from './check-details.js';
import type { Palette } from './render-text.js';
import { printable } from './printable.js';

const LABEL = { pass: 'PASS ', fail: 'FAIL ', error: 'ERROR' } as const;

/** One line per fixture (name, shape, dtype, verdict, path), then the reasons for a failure. */
export function renderOutcomeText(outcome: FixtureOutcome, palette: Palette): string {
  const paint = outcome.status === 'pass' ? palette.good : palette.bad;
  // Fixed minimum widths: the lines are printed as fixtures finish, before the longest is known.
  const what = outcome.status === 'error' ? '' : `${formatShape(outcome.shape)} ${outcome.dtype}`;
  const head = `${paint(LABEL[outcome.status])}  ${printable(outcome.name).padEnd(24)}  ${what.padEnd(20)}  ${palette.faint(outcome.path)}`;
  return [head, ...outcomeDetails(outcome).map((line) => `       ${line}`)].join('\n') + '\n';
}

export function renderCheckSummary(run: CheckRun, palette: Palette): string {
  const clean = run.counts.failed === 0 && run.counts.errored === 0;
  return `\n${(clean ? palette.good : palette.bad)(summaryLine(run))}\n`;
}
