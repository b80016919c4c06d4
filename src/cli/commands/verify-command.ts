import { resolve } from 'node:path';
import { runVerification } from '../../core/run.js';
import { checkOutputPath, writeFileAtomic } from '../../io/atomic-write.js';
import { realPathOf } from '../../io/file-status.js';
import { InputError } from '../../input-error.js';
import { readArithmeticFlags, resolveRequest, type RawRequest } from '../../input/resolve-input.js';
import { renderText } from '../../output/render-text.js';
import { paletteForStdout } from '../colour.js';
import { exitCodeFor, type Outcome } from '../exit-code.js';
import type { REFERENCE_CHOICES, VERIFY_FORMATS } from '../formats.js';
import { inputFiles } from '../../io/input-files.js';
import { TOOL, type Io } from '../io.js';
import { terminalProgress } from '../terminal-progress.js';

/** The input's flags are resolveRequest's own (RawRequest); the rest are this command's. */
export interface VerifyFlags extends RawRequest {
  format: (typeof VERIFY_FORMATS)[number];
  rows: string;
  summary: boolean;
  precision: string;
  color: boolean;
  allowSlow: boolean;
  reference: (typeof REFERENCE_CHOICES)[number];
  accurate: boolean;
  compute?: string;
  accumulate?: string;
  fd: boolean;
  html?: string;
  force: boolean;
}

/** The default command: the methods on one input, side by side, with the reference's ulps. */
export async function verifyCommand(flags: VerifyFlags, io: Io): Promise<Outcome> {
  if (flags.summary && flags.format === 'json') {
    throw new InputError('--summary shortens the text report; --format json always holds the whole report');
  }
  const rows = readRows(flags.rows);
  const precision = readPrecision(flags.precision);
  const types = readArithmeticFlags(flags);
  // Vetted before any work: a long run must not end in a refusal.
  if (flags.html !== undefined) checkOutputPath(flags.html, flags.force, io.cwd);
  const read = new Set<string>();
  const resolved = await resolveRequest(flags, inputFiles(io, read));
  if (!resolved.ok) throw resolved.error;
  if (flags.html !== undefined) refuseOverInput(flags.html, read, io.cwd);
  const progress = terminalProgress(io.stderr);
  const report = await runVerification(resolved.value.input, {
    tolerance: resolved.value.tolerance,
    arithmetic: types,
    reference: flags.reference,
    accurate: flags.accurate,
    finiteDifferences: flags.fd,
    allowSlow: flags.allowSlow,
    progress,
  });
  io.verdictKnown?.(exitCodeFor({ kind: 'verdict', passed: report.passed }));
  if (flags.format === 'json') {
    // Imported only when used, like the file reader: each module on the plain run's path adds to
    // a start-up that Node's own should dominate.
    // Streamed in pieces, waiting for the reader: a report of millions of elements is never one string.
    const { streamJson } = await import('../../output/render-json.js');
    await streamJson(report, TOOL, io.stdout, progress);
  } else {
    const palette = await paletteForStdout(flags.color, io.env, io.stdout.isTTY === true);
    io.stdout.write(renderText(report, { precision, rows, palette, summary: flags.summary }));
  }
  if (flags.html !== undefined) {
    const { renderReportHtml } = await import('../../output/render-html.js');
    writeFileAtomic(flags.html, renderReportHtml(report), flags.force, io.cwd);
  }
  return { kind: 'verdict', passed: report.passed };
}

/** The page may not land on a file the run read (with --force it could): --input, .npy files, and those a document names. */
function refuseOverInput(html: string, read: ReadonlySet<string>, cwd: string): void {
  if (read.has(realPathOf(resolve(cwd, html)))) throw new InputError(`--html names ${html}, one of the run's inputs: write the page elsewhere`);
}

function readRows(text: string): number | 'all' {
  if (text === 'all') return 'all';
  if (/^\d+$/.test(text)) return Number(text);
  throw new InputError(`--rows must be a whole number or "all", got ${JSON.stringify(text)}`);
}

function readPrecision(text: string): number {
  const digits = /^\d+$/.test(text) ? Number(text) : NaN;
  if (digits >= 1 && digits <= 17) return digits;
  throw new InputError(`--precision must be a whole number from 1 to 17, got ${JSON.stringify(text)}`);
}
