import type { FixtureOutcome } from '../check/check-fixture.js';
import type { CheckRun } from '../check/run-check.js';
import { basename } from 'node:path';
import { formatShape } from '../tensor.js';
import { outcomeDetails, summaryLine } from './check-details.js';
import type { Palette } from './render-text.js';
import { printable } from '../printable.js';

const LABEL = { pass: 'PASS ', fail: 'FAIL ', error: 'ERROR' } as const;

/** The name column's least width. */
export const NAME_WIDTH = 24;

/** The name column's width for a suite of these files: the longest file name (without .json), at least NAME_WIDTH. */
export function nameWidthFor(paths: readonly string[]): number {
  return paths.reduce((width, path) => Math.max(width, basename(path, '.json').length), NAME_WIDTH);
}

/**
 * One line per fixture (name, shape, dtype, verdict, path), then the reasons for a failure.
 * `nameWidth`: the lines are printed as fixtures finish, before their names are known; the caller
 * gives the longest file name, which a fixture's name usually is.
 */
export function renderOutcomeText(outcome: FixtureOutcome, palette: Palette, nameWidth = NAME_WIDTH): string {
  const paint = outcome.status === 'pass' ? palette.good : palette.bad;
  const what = outcome.status === 'error' ? '' : `${formatShape(outcome.shape)} ${outcome.dtype}`;
  const head = `${paint(LABEL[outcome.status])}  ${printable(outcome.name).padEnd(nameWidth)}  ${what.padEnd(20)}  ${palette.faint(printable(outcome.path))}`;
  // A file's name and an error's message may hold line breaks: each stays on its line.
  return [head, ...outcomeDetails(outcome).map((line) => `       ${printable(line)}`)].join('\n') + '\n';
}

export function renderCheckSummary(run: CheckRun, palette: Palette): string {
  const clean = run.counts.failed === 0 && run.counts.errored === 0;
  return `\n${(clean ? palette.good : palette.bad)(summaryLine(run))}\n`;
}
