import type { DType, Tolerance } from '../dtype.js';
import { runVerification } from '../core/run.js';
import { InputError } from '../input-error.js';
import { WordedError, type Edge } from '../core/run-refusal.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import { parseInputDocument } from '../input/input-document.js';
import { inputFromDocument } from '../input/resolve-input.js';
import type { Tensor } from '../tensor.js';
import { type Report } from '../core/report.js';

interface OutcomeBase {
  readonly path: string;
  /** The fixture's `name`, or its file name when it could not be read. */
  readonly name: string;
  readonly seconds: number;
}

export type FixtureOutcome =
  | (OutcomeBase & {
      readonly status: 'pass' | 'fail';
      readonly shape: readonly number[];
      readonly dtype: DType;
      readonly report: Report;
    })
  | (OutcomeBase & { readonly status: 'error'; readonly message: string });

export interface FixtureCheckOptions {
  /** Which fixtures to run, by name; the others are skipped before any arithmetic. */
  readonly select?: (name: string) => boolean;
  /** `--rtol/--atol`: override the fixture's tolerance and its dtype's. */
  readonly tolerance?: Tolerance;
  /** `--compute` and `--accumulate`: the arithmetic every fixture's kernel is taken to run in. */
  readonly arithmetic?: ArithmeticTypes;
  /** Run explicit Jacobians beyond the entry limit. */
  readonly allowSlow?: boolean;
  /** Share large explicit Jacobians among worker threads (default true; the same bits). */
  readonly parallel?: boolean;
  /** Whose words an error outcome's message is in (default the command line's). */
  readonly edge?: Edge;
  /** Reads .npy files a fixture names, relative to its folder; without it such names are errors. */
  readonly npyBeside?: (path: string) => (relativePath: string, field: string) => Tensor;
}

/**
 * Checks one fixture file's text through the run pipeline (without the reference: a fixture's
 * verdict needs none): both methods must agree with each other and match every expected value the
 * fixture carries. A fixture that cannot be read as fixture v1 is an `error` outcome, never an
 * exception, so one broken file does not stop a suite. Returns undefined for a fixture that
 * `select` leaves out.
 */
export async function checkFixture(path: string, text: string, fallbackName: string, options: FixtureCheckOptions): Promise<FixtureOutcome | undefined> {
  const selected = (name: string): boolean => options.select?.(name) ?? true;
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  let name = fallbackName;
  try {
    const doc = parseInputDocument(text, { requireFixture: true, loadNpy: options.npyBeside?.(path) });
    name = doc.name ?? fallbackName;
    if (!selected(name)) return undefined;
    const input = inputFromDocument(path, doc);
    const report = await runVerification(input, {
      tolerance: options.tolerance,
      arithmetic: options.arithmetic,
      allowSlow: options.allowSlow,
      parallel: options.parallel,
      reference: 'off',
    });
    const { shape } = input.x;
    return { status: report.passed ? 'pass' : 'fail', path, name, shape, dtype: input.dtype, report, seconds: seconds() };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    if (!selected(name)) return undefined;
    return { status: 'error', path, name, message: error instanceof WordedError ? error.wordedFor(options.edge ?? 'flags') : error.message, seconds: seconds() };
  }
}
