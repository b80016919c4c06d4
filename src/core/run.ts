import { InputError } from '../input/input-error.js';
import { runsInParallel } from '../math/parallel-threshold.js';
import { sliceLayout } from '../math/slices.js';
import type { MethodResult } from '../math/pipelines.js';
import { arithmeticFor, narrowerThanDType, type ArithmeticTypes } from '../numeric/arithmetic.js';
import { computeReference, type ReferenceResult } from '../reference/compute-reference.js';
import type { Tolerance } from '../dtype.js';
import { roundedInput, verify, type Report, type VerifyInput } from '../verify.js';
import { autoReferenceSkip, bigNumberRefusal, finiteDifferenceRefusal, jacobianEntries, jacobianRefusal } from '../work-budget.js';

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
  /** Run work beyond the limits of work-budget.ts instead of skipping or refusing it. */
  readonly allowSlow?: boolean;
}

/**
 * The one run pipeline every command and the library use: the budget (work beyond its limits is
 * refused, or skipped with its estimate), the input rounded to its dtype once, the reference, the
 * explicit Jacobian on the machine's cores where that pays, then the comparisons and the report.
 * Throws InputError for options the input cannot take (an arithmetic narrower than its dtype, or
 * work over budget that cannot be skipped).
 */
export async function runVerification(input: VerifyInput, options: RunOptions = {}): Promise<Report> {
  const types = options.arithmetic ?? {};
  const narrower = narrowerThanDType(input.dtype, types);
  if (narrower !== undefined) throw new InputError(narrower);
  const fdRefusal = options.allowSlow || !options.finiteDifferences ? undefined : finiteDifferenceRefusal(input);
  if (fdRefusal !== undefined) throw new InputError(fdRefusal);
  const jacobianSkipped = options.allowSlow ? undefined : jacobianRefusal(input);

  // The reference is computed from the inputs the methods see: rounded to the dtype.
  const rounded = roundedInput(input);
  const choice = options.reference ?? 'auto';
  const referenceSkipped = choice === 'auto' ? autoReferenceSkip(rounded) : undefined;
  const reference = referenceSkipped === undefined ? await referenceFor(rounded, choice, options.allowSlow === true) : undefined;
  const jacobianResult =
    jacobianSkipped === undefined && runsInParallel(jacobianEntries(rounded), arithmeticFor(rounded.dtype, types))
      ? await parallelJacobian(rounded, types)
      : undefined;
  return verify(rounded, {
    jacobianResult,
    tolerance: options.tolerance,
    reference,
    accurate: options.accurate,
    arithmetic: types,
    finiteDifferences: options.finiteDifferences,
    jacobianSkipped,
    referenceSkipped,
  });
}

/** The explicit-Jacobian method with its rows shared among the cores (loaded only for large work). */
async function parallelJacobian(input: VerifyInput, types: ArithmeticTypes): Promise<MethodResult> {
  const { runJacobianMethodParallel } = await import('../math/parallel-jacobian.js');
  const layout = sliceLayout(input.x.shape, input.axis);
  return runJacobianMethodParallel(input.x.data, input.g.data, layout, arithmeticFor(input.dtype, types));
}

/** The correctly rounded results, loaded and computed only when asked for. */
async function referenceFor(input: VerifyInput, choice: ReferenceChoice, allowSlow: boolean): Promise<ReferenceResult | undefined> {
  if (choice === 'off') return undefined;
  const engine = choice === 'auto' ? 'double-double' : choice;
  const refusal = engine === 'bignumber' && !allowSlow ? bigNumberRefusal(input) : undefined;
  if (refusal !== undefined) throw new InputError(refusal);
  const loadBigNumber = async () => (await import('../reference/bignumber-reference.js')).loadBigNumberReference();
  return computeReference(input.x, input.g, input.axis, engine, loadBigNumber);
}
