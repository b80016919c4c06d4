import { collectFixturePaths } from '../../check/collect-fixtures.js';
import { runCheck, type CheckRun } from '../../check/run-check.js';
import { InputError } from '../../input/input-error.js';
import { readArithmeticFlags, readToleranceFlags } from '../../input/resolve-input.js';
import { checkOutputPath, writeFileAtomic } from '../../io/atomic-write.js';
import { renderCheckSummary, renderOutcomeText } from '../../output/check-text.js';
import { PLAIN } from '../../output/render-text.js';
import { paletteForStdout } from '../colour.js';
import type { Outcome } from '../exit-code.js';
import { INPUT_FILES } from '../input-files.js';
import type { CHECK_FORMATS } from '../formats.js';
import { TOOL, type Io } from '../io.js';

type CheckFormat = (typeof CHECK_FORMATS)[number];

export interface CheckFlags {
  rtol?: string;
  atol?: string;
  format: CheckFormat;
  output?: string;
  force: boolean;
  bail: boolean;
  filter?: string;
  allowSlow: boolean;
  compute?: string;
  accumulate?: string;
  color: boolean;
}

/**
 * `check <paths…>`: every fixture through both methods and against its expected values, a line
 * each as they finish, then a summary. The report in `--format` goes to stdout, or to `--output`
 * while the text lines still go to the terminal.
 */
export async function checkCommand(paths: readonly string[], flags: CheckFlags, io: Io): Promise<Outcome> {
  const tolerance = readToleranceFlags(flags);
  const arithmetic = readArithmeticFlags(flags);
  if (flags.output !== undefined) checkOutputPath(flags.output, flags.force);
  const files = await collectFixturePaths(paths);
  const toTerminal = flags.format === 'text' || flags.output !== undefined;
  const palette = toTerminal ? await paletteForStdout(flags.color, io.env, io.stdout.isTTY === true) : PLAIN;
  const { filter } = flags;

  const run = runCheck(files, {
    tolerance,
    arithmetic,
    bail: flags.bail,
    allowSlow: flags.allowSlow,
    npyBeside: INPUT_FILES.npyBeside,
    select: filter === undefined ? undefined : (name) => name.includes(filter),
    onOutcome: toTerminal ? (outcome) => io.stdout.write(renderOutcomeText(outcome, palette)) : undefined,
  });
  if (run.outcomes.length === 0) throw new InputError(`no fixture name contains ${JSON.stringify(filter)} (--filter)`);

  if (toTerminal) io.stdout.write(renderCheckSummary(run, palette));
  if (flags.format !== 'text' || flags.output !== undefined) {
    const report = await renderReport(run, flags.format);
    if (flags.output === undefined) io.stdout.write(report);
    else writeFileAtomic(flags.output, report, flags.force);
  }
  // A broken suite must never pass for a numerical failure: errors (2) outrank mismatches (1).
  if (run.counts.errored > 0) return { kind: 'bad-input' };
  return { kind: 'verdict', passed: run.counts.failed === 0 };
}

async function renderReport(run: CheckRun, format: CheckFormat): Promise<string> {
  switch (format) {
    case 'json':
      return (await import('../../output/check-json.js')).renderCheckJson(run, TOOL);
    case 'junit':
      return (await import('../../output/check-junit.js')).renderCheckJunit(run);
    case 'markdown':
      return (await import('../../output/check-markdown.js')).renderCheckMarkdown(run);
    case 'text':
      return run.outcomes.map((outcome) => renderOutcomeText(outcome, PLAIN)).join('') + renderCheckSummary(run, PLAIN);
  }
}
