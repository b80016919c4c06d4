import type { DType, Tolerance } from '../dtype.js';
import { InputError } from '../input/input-error.js';
import { arithmeticFor, narrowerThanDType, type ArithmeticTypes } from '../numeric/arithmetic.js';
import { parseInputDocument } from '../input/input-document.js';
import { inputFromDocument } from '../input/resolve-input.js';
import { runsInParallel } from '../math/parallel-threshold.js';
import type { MethodResult } from '../math/pipelines.js';
import { sliceLayout } from '../math/slices.js';
import { jacobianEntries, jacobianRefusal } from '../work-budget.js';
import type { Tensor } from '../tensor.js';
import { roundedInput, verify, type Report, type VerifyInput } from '../verify.js';

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
  /** Reads .npy files a fixture names, relative to its folder; without it such names are errors. */
  readonly npyBeside?: (path: string) => (relativePath: string, field: string) => Tensor;
}

/**
 * What a check asks of whoever runs it, for an input whose explicit Jacobian is large enough to
 * share among threads: that Jacobian's results. The answer may be undefined: verify then computes
 * it on this thread, with the same bits.
 */
export interface JacobianRequest {
  readonly input: VerifyInput;
  readonly arithmetic: ArithmeticTypes;
}

/** A check as steps: each yield is a JacobianRequest, each answer its results (see runSteps, runStepsInParallel). */
export type CheckSteps<T> = Generator<JacobianRequest, T, MethodResult | undefined>;

/** Runs the steps on this thread alone: verify computes every explicit Jacobian itself. */
export function runSteps<T>(steps: CheckSteps<T>): T {
  let step = steps.next();
  while (!step.done) step = steps.next(undefined);
  return step.value;
}

/**
 * Runs the steps with the large explicit Jacobians on worker threads (parallel-jacobian.ts, loaded
 * only when one is asked for): bit-identical results, in about half the time on two cores.
 */
export async function runStepsInParallel<T>(steps: CheckSteps<T>): Promise<T> {
  let step = steps.next();
  while (!step.done) step = steps.next(await parallelJacobian(step.value));
  return step.value;
}

async function parallelJacobian({ input, arithmetic }: JacobianRequest): Promise<MethodResult> {
  const { runJacobianMethodParallel } = await import('../math/parallel-jacobian.js');
  // As verify sees the input: rounded to its dtype.
  const rounded = roundedInput(input);
  const layout = sliceLayout(rounded.x.shape, rounded.axis);
  return runJacobianMethodParallel(rounded.x.data, rounded.g.data, layout, arithmeticFor(rounded.dtype, arithmetic));
}

/**
 * Checks one fixture file's text: both methods must agree with each other and match every
 * expected value the fixture carries. A fixture that cannot be read as fixture v1 is an `error`
 * outcome, never an exception, so one broken file does not stop a suite. Returns undefined for a
 * fixture that `select` leaves out. One thread; `checkFixtureSteps` with runStepsInParallel shares
 * a large explicit Jacobian among threads.
 */
export function checkFixture(path: string, text: string, fallbackName: string, options: FixtureCheckOptions): FixtureOutcome | undefined {
  return runSteps(checkFixtureSteps(path, text, fallbackName, options));
}

/** `checkFixture` as steps: it asks for the explicit Jacobian when that is large enough for threads. */
export function* checkFixtureSteps(
  path: string,
  text: string,
  fallbackName: string,
  options: FixtureCheckOptions,
): CheckSteps<FixtureOutcome | undefined> {
  const selected = (name: string): boolean => options.select?.(name) ?? true;
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  let name = fallbackName;
  try {
    const doc = parseInputDocument(text, { requireFixture: true, loadNpy: options.npyBeside?.(path) });
    name = doc.name ?? fallbackName;
    if (!selected(name)) return undefined;
    const input = inputFromDocument(path, doc);
    const narrower = narrowerThanDType(input.dtype, options.arithmetic ?? {});
    if (narrower !== undefined) throw new InputError(narrower);
    const jacobianSkipped = options.allowSlow ? undefined : jacobianRefusal(input);
    const arithmetic = options.arithmetic ?? {};
    const jacobianResult =
      jacobianSkipped === undefined && runsInParallel(jacobianEntries(input), arithmeticFor(input.dtype, arithmetic))
        ? yield { input, arithmetic }
        : undefined;
    const report = verify(input, { tolerance: options.tolerance, arithmetic: options.arithmetic, jacobianSkipped, jacobianResult });
    const { shape } = input.x;
    return { status: report.passed ? 'pass' : 'fail', path, name, shape, dtype: input.dtype, report, seconds: seconds() };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    if (!selected(name)) return undefined;
    return { status: 'error', path, name, message: error.message, seconds: seconds() };
  }
}
