import { resolve } from 'node:path';
import type { FixtureOutcome } from '../../check/check-fixture.js';
import { collectFixturePaths } from '../../check/collect-fixtures.js';
import { runCheck, type CheckRun } from '../../check/run-check.js';
import { parseShard, shardSlice } from '../../check/shard.js';
import { InputError } from '../../input-error.js';
import { readArithmeticFlags, readToleranceFlags } from '../../input/resolve-input.js';
import { checkOutputPath, writeFileAtomic } from '../../io/atomic-write.js';
import { realPathOf } from '../../io/file-status.js';
import { refuseReportsOverFixtures, reportFiles, type ReportFile } from '../../output/check-outputs.js';
import { nameWidthFor, renderCheckSummary, renderOutcomeText } from '../../output/check-text.js';
import { PLAIN } from '../../output/render-text.js';
import { paletteForStdout } from '../colour.js';
import type { Outcome } from '../exit-code.js';
import { inputFiles } from '../../io/input-files.js';
import type { CHECK_FORMATS } from '../formats.js';
import { TOOL, type Io } from '../io.js';
import { writeWorkflowCommand } from '../workflow-command-guard.js';

type CheckFormat = (typeof CHECK_FORMATS)[number];

export interface CheckFlags {
  rtol?: string;
  atol?: string;
  format: CheckFormat;
  output?: string;
  junit?: string;
  markdown?: string;
  json?: string;
  html?: string;
  force: boolean;
  shard?: string;
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
 * while the text lines still go to the terminal; `--junit`, `--markdown` and `--json` write more
 * reports beside it. Under GitHub Actions, failures become annotations and the Markdown report is
 * added to the job summary.
 */
export async function checkCommand(paths: readonly string[], flags: CheckFlags, io: Io): Promise<Outcome> {
  const tolerance = readToleranceFlags(flags);
  const arithmetic = readArithmeticFlags(flags);
  const shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
  if (shard !== undefined && flags.filter !== undefined) {
    throw new InputError(
      '--filter and --shard do not go together: names are known only once every file is read, so no shard could tell a misspelt filter from one that matches elsewhere',
    );
  }
  // Every report file is vetted before any fixture runs: a long suite must not end in a refusal.
  const reports = reportFiles(flags, io.cwd);
  for (const report of reports) checkOutputPath(report.path, flags.force, io.cwd);
  const allFiles = await collectFixturePaths(paths, io.cwd);
  refuseReportsOverFixtures(reports, allFiles, io.cwd);
  // The sorted file list is what is split: every job of a matrix agrees on it without reading a file.
  const slice = shard === undefined ? undefined : shardSlice(allFiles.length, shard);
  const files = slice === undefined ? allFiles : allFiles.slice(slice.start, slice.end);

  const reportOnStdout = flags.format !== 'text' && flags.output === undefined;
  const palette = reportOnStdout ? PLAIN : await paletteForStdout(flags.color, io.env, io.stdout.isTTY === true);
  const annotate = await annotator(io, reportOnStdout);
  const { filter } = flags;

  // The .npy files fixtures name: a report written over one (with --force) is refused too.
  const read = new Set<string>();
  const nameWidth = nameWidthFor(files.map((file) => file.path));
  // Large explicit Jacobians share their rows among the cores; the results are the same bits.
  const checked = await runCheck(files, {
    tolerance,
    arithmetic,
    bail: flags.bail,
    allowSlow: flags.allowSlow,
    cwd: io.cwd,
    npyBeside: inputFiles(io, read).npyBeside,
    select: filter === undefined ? undefined : (name) => name.includes(filter),
    onOutcome: (outcome) => {
      if (!reportOnStdout) io.stdout.write(renderOutcomeText(outcome, palette, nameWidth));
      annotate?.(outcome);
    },
  });
  const run: CheckRun = slice === undefined ? checked : { ...checked, shard: slice };
  // A typo must not pass for an empty suite.
  if (run.outcomes.length === 0 && filter !== undefined) throw new InputError(`no fixture name contains ${JSON.stringify(filter)} (--filter)`);

  if (!reportOnStdout) io.stdout.write(renderCheckSummary(run, palette));
  const render = renderer(run);
  if (reportOnStdout) io.stdout.write(await render(flags.format));
  const stepSummary = io.env.GITHUB_STEP_SUMMARY;
  // `--format markdown >> "$GITHUB_STEP_SUMMARY"` (the recipe before this was automatic) would add it twice.
  const markdownOnStdout = reportOnStdout && flags.format === 'markdown';
  if (stepSummary !== undefined && stepSummary !== '' && !markdownOnStdout) {
    const { appendStepSummary, STEP_SUMMARY_MAX_BYTES } = await import('../../output/check-step-summary.js');
    const { renderCheckMarkdown } = await import('../../output/check-markdown.js');
    const warning = appendStepSummary(resolve(io.cwd, stepSummary), renderCheckMarkdown(run, { maxBytes: STEP_SUMMARY_MAX_BYTES }));
    if (warning !== undefined) io.stderr.write(`${warning}\n`);
  }
  await writeReports(reports, render, flags.force, io.cwd, read);
  // A broken suite must never pass for a numerical failure: errors (2) outrank mismatches (1).
  if (run.counts.errored > 0) return { kind: 'bad-input' };
  return { kind: 'verdict', passed: run.counts.failed === 0 };
}

/**
 * Writes every report, each whole or not at all (writeFileAtomic): one that cannot be written (a full
 * disk) does not keep the others from theirs, and then the run ends in exit 2 with one line naming
 * each that failed, never in the verdict's exit code, which would pass a truncated or missing report.
 */
async function writeReports(reports: readonly ReportFile[], render: (format: CheckFormat) => Promise<string>, force: boolean, cwd: string, read: ReadonlySet<string>): Promise<void> {
  const failures: string[] = [];
  for (const report of reports) {
    try {
      if (read.has(realPathOf(resolve(cwd, report.path)))) throw new InputError(`${report.path} is a file a fixture names: write the report elsewhere`);
      writeFileAtomic(report.path, await render(report.format), force, cwd);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      failures.push(`${report.flag}: ${error.message}`);
    }
  }
  if (failures.length > 0) throw new InputError(`${failures.join('; ')}${failures.length < reports.length ? ' (the other reports were written)' : ''}`);
}

/**
 * Under GitHub Actions, writes an `::error` line for each fixture that fails or cannot be read.
 * The runner reads workflow commands from stderr as well, where they go when stdout carries a
 * JSON, JUnit or Markdown report that they would corrupt.
 */
async function annotator(io: Io, reportOnStdout: boolean): Promise<((outcome: FixtureOutcome) => void) | undefined> {
  if (io.env.GITHUB_ACTIONS !== 'true') return undefined;
  const { annotationPath, errorAnnotation } = await import('../../output/github-annotations.js');
  const stream = reportOnStdout ? io.stderr : io.stdout;
  const { cwd } = io;
  return (outcome) => {
    const line = errorAnnotation(outcome, annotationPath(outcome.path, cwd, io.env.GITHUB_WORKSPACE));
    // Past the guard main() puts on the streams: the one kind of line that may start with `::`.
    if (line !== undefined) writeWorkflowCommand(stream, `${line}\n`);
  };
}

/** Each format rendered at most once, however many outputs ask for it; each renderer loaded only when asked. */
function renderer(run: CheckRun): (format: CheckFormat) => Promise<string> {
  const done = new Map<CheckFormat, Promise<string>>();
  return (format) => {
    let text = done.get(format);
    if (text === undefined) done.set(format, (text = renderReport(run, format)));
    return text;
  };
}

async function renderReport(run: CheckRun, format: CheckFormat): Promise<string> {
  switch (format) {
    case 'json':
      return (await import('../../output/check-json.js')).renderCheckJson(run, TOOL);
    case 'junit':
      return (await import('../../output/check-junit.js')).renderCheckJunit(run);
    case 'markdown':
      return (await import('../../output/check-markdown.js')).renderCheckMarkdown(run);
    case 'html':
      return (await import('../../output/render-html.js')).renderCheckHtml(run);
    case 'text':
      return run.outcomes.map((outcome) => renderOutcomeText(outcome, PLAIN, nameWidthFor(run.outcomes.map((o) => o.path)))).join('') + renderCheckSummary(run, PLAIN);
  }
}
