import { RunRefusalError } from './run-refusal.js';
import { runsInParallel } from '../parallel/parallel-threshold.js';
import { arithmeticFor, narrowerThanDType, type ArithmeticTypes } from '../numeric/arithmetic.js';
import { opDefinition } from '../ops/index.js';
import type { ParallelJacobian } from '../ops/op-definition.js';
import { isLeftUndecided, type BigNumberPolicy, type LeftUndecided } from '../reference/reference-by-slices.js';
import type { ReferenceEngine } from '../reference/reference-slice.js';
import type { Progress } from '../progress.js';
import type { Tolerance } from '../dtype.js';
import { roundedInput, judge } from './judge.js';
import {
  type OverBudget,
  autoBigNumberShare,
  autoReferenceOverBudget,
  BIGNUMBER_ELEMENT_LIMIT,
  bigNumberOverBudget,
  bigNumberShareOverBudget,
  finiteDifferencesOverBudget,
  jacobianEntries,
  jacobianOverBudget,
  OverBudgetError,
} from './budget.js';
import { type MethodResult } from '../methods/method-result.js';
import { type ReferenceResult } from '../reference/reference-result.js';
import { arithmeticTypesOf, type Report, type VerifyInput } from './report.js';

export const REFERENCE_CHOICES = ['auto', 'double-double', 'bignumber', 'off'] as const;
export type ReferenceChoice = (typeof REFERENCE_CHOICES)[number];

/** What a run computes besides the two methods, and how much work it may start. */
export interface RunOptions {
  /** Overrides the input's and the dtype's tolerance. */
  readonly tolerance?: Tolerance;
  /** The kernel's compute and accumulation types; PyTorch's for the dtype when left out. */
  readonly arithmetic?: ArithmeticTypes;
  /** The exact results the ulp figures are measured against (default `auto`). */
  readonly reference?: ReferenceChoice;
  /** Add the accurate closed form as a third method. */
  readonly accurate?: boolean;
  /** Check the gradient against central differences too (O(n²)). */
  readonly finiteDifferences?: boolean;
  /** Run the explicit Jacobian, BigNumber and finite differences beyond the limits of budget.ts instead of skipping or refusing them. */
  readonly allowSlow?: boolean;
  /**
   * Share a large explicit Jacobian's rows among worker threads (default true): the same bits as
   * one thread, sooner. False keeps the run on this thread.
   */
  readonly parallel?: boolean;
  /** Told how far the long steps (the explicit Jacobian, BigNumber) have come: the CLI shows it on a terminal. */
  readonly progress?: Progress;
  /**
   * The most explicit-Jacobian entries to run (default budget.ts's); beyond them the accurate closed
   * form stands in as the second witness. A hunt, which judges thousands of cases, keeps it small.
   */
  readonly jacobianEntryLimit?: number;
  /** false: name no likely bug (a hunt's search and shrink, which keep only the last report). */
  readonly diagnose?: boolean;
}

/**
 * The one run pipeline every command and the library use: the budget (work beyond its limits is
 * refused, or skipped with its estimate), the input rounded to its dtype once, the reference, the
 * explicit Jacobian on the machine's cores where that pays, then the comparisons and the report.
 * Throws InputError for options the input cannot take (an arithmetic narrower than its dtype, or
 * work over budget that cannot be skipped).
 */
export async function runVerification(input: VerifyInput, options: RunOptions = {}): Promise<Report> {
  const types = arithmeticTypesOf(input, options.arithmetic);
  const narrower = narrowerThanDType(input.dtype, options.arithmetic ?? {});
  if (narrower !== undefined) throw new RunRefusalError({ code: 'narrower-arithmetic', ...narrower, dtype: input.dtype });
  const { op } = input;
  if (!opDefinition(op).finiteDifferences && options.finiteDifferences) throw new RunRefusalError({ code: 'finite-differences-op', op });
  const choice = options.reference ?? 'auto';

  const fdRefusal = options.allowSlow || !options.finiteDifferences ? undefined : finiteDifferencesOverBudget(input);
  if (fdRefusal !== undefined) throw new OverBudgetError(fdRefusal);
  if (input.forwardOnly && options.finiteDifferences) throw new RunRefusalError({ code: 'finite-differences-without-g' });
  // Forward only, the explicit method is its forward pass, O(n): nothing to budget or share.
  const jacobianSkipped = options.allowSlow || input.forwardOnly ? undefined : jacobianOverBudget(input, types, options.jacobianEntryLimit);

  // The reference is computed from the inputs the methods see: rounded to the dtype.
  const rounded = roundedInput(input);
  const autoSkipped = choice === 'auto' ? autoReferenceOverBudget(rounded) : undefined;
  const { reference, skipped } = autoSkipped === undefined ? await referenceFor(rounded, choice, options.allowSlow === true, options.progress) : { skipped: autoSkipped };
  const jacobianResult =
    jacobianSkipped === undefined && !input.forwardOnly && options.parallel !== false && runsInParallel(jacobianEntries(rounded), arithmeticFor(rounded.dtype, types))
      ? await parallelJacobian(rounded, types, options.progress)
      : undefined;
  return judge(rounded, {
    jacobianResult,
    tolerance: options.tolerance,
    reference,
    accurate: options.accurate,
    // As given: the judging takes the input's own arithmetic for the parts the options leave out, and says which it ran in.
    arithmetic: options.arithmetic,
    finiteDifferences: options.finiteDifferences,
    jacobianSkipped,
    referenceSkipped: skipped,
    diagnose: options.diagnose,
  });
}

/** The explicit-Jacobian method with its rows (log_softmax: columns) shared among the cores (loaded only for large work). */
async function parallelJacobian(input: VerifyInput, types: ArithmeticTypes, progress: Progress | undefined): Promise<MethodResult> {
  const { runJacobianMethodParallel } = await import('../parallel/parallel-jacobian.js');
  const run: ParallelJacobian = (x, g, layout, a, kernel, told) => runJacobianMethodParallel(x, g, layout, a, undefined, undefined, undefined, kernel, told);
  return opDefinition(input.op).parallelJacobian(input, arithmeticFor(input.dtype, types), run, progress);
}

/**
 * The correctly rounded results, loaded and computed only when asked for; or why they were left
 * out: double-double left slices undecided, and BigNumber's share of them is over what the choice
 * allows (`auto`: autoBigNumberShare's time; `double-double`: BigNumber's element limit, which
 * `allowSlow` lifts), or ran out of time. `bignumber` over its limit is refused before it starts.
 */
async function referenceFor(
  input: VerifyInput,
  choice: ReferenceChoice,
  allowSlow: boolean,
  progress: Progress | undefined,
): Promise<{ readonly reference?: ReferenceResult; readonly skipped?: OverBudget }> {
  if (choice === 'off') return {};
  const engine = choice === 'auto' ? 'double-double' : choice;
  const refusal = engine === 'bignumber' && !allowSlow ? bigNumberOverBudget(input) : undefined;
  if (refusal !== undefined) throw new OverBudgetError(refusal);
  const share = autoBigNumberShare(input);
  const policy: BigNumberPolicy =
    choice === 'auto'
      ? { elementLimit: share.elements, seconds: 2 * share.seconds, progress }
      : { elementLimit: allowSlow || engine === 'bignumber' ? Infinity : BIGNUMBER_ELEMENT_LIMIT, progress };
  const found = await referenceWithin(input, engine, policy);
  if (!isLeftUndecided(found)) return { reference: found };
  return { skipped: bigNumberShareOverBudget(input, found, policy.elementLimit, choice === 'auto' ? 'auto' : 'double-double') };
}

/** The op's reference engines, each loaded when asked for. */
function referenceWithin(input: VerifyInput, engine: ReferenceEngine, policy: BigNumberPolicy): Promise<ReferenceResult | LeftUndecided> {
  return opDefinition(input.op).reference(input, engine, policy);
}
