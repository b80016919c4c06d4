import { InputError } from '../input-error.js';
import { supportedOp } from '../op.js';
import { runsInParallel } from '../parallel/parallel-threshold.js';
import { sliceLayout } from '../methods/slices.js';
import type { MethodResult } from '../methods/pipelines.js';
import { arithmeticFor, narrowerThanDType, type ArithmeticTypes } from '../numeric/arithmetic.js';
import { computeReference, type ReferenceResult } from '../reference/compute-reference.js';
import type { Tolerance } from '../dtype.js';
import { roundedInput, verify, type Report, type VerifyInput } from '../verify.js';
import { crossEntropyOfLogSoftmax, lossLayer } from '../methods/cross-entropy.js';
import { type OverBudget, autoReferenceOverBudget, bigNumberOverBudget, finiteDifferencesOverBudget, jacobianEntries, jacobianOverBudget, OverBudgetError } from './budget.js';

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
  const op = supportedOp(input.op ?? 'softmax', 'op');
  if (op !== 'softmax' && options.finiteDifferences) throw new InputError(`finite differences (--fd) check softmax only in this version, not ${op}`);
  const choice = options.reference ?? 'auto';

  const fdRefusal = options.allowSlow || !options.finiteDifferences ? undefined : finiteDifferencesOverBudget(input);
  if (fdRefusal !== undefined) throw new OverBudgetError(fdRefusal);
  const jacobianSkipped = options.allowSlow ? undefined : jacobianOverBudget(input, types);

  // The reference is computed from the inputs the methods see: rounded to the dtype.
  const rounded = roundedInput(input);
  const autoSkipped = choice === 'auto' ? autoReferenceOverBudget(rounded) : undefined;
  const { reference, skipped } = autoSkipped === undefined ? await referenceFor(rounded, choice, options.allowSlow === true) : { skipped: autoSkipped };
  const jacobianResult =
    jacobianSkipped === undefined && options.parallel !== false && runsInParallel(jacobianEntries(rounded), arithmeticFor(rounded.dtype, types))
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
    referenceSkipped: skipped,
  });
}

/** The explicit-Jacobian method with its rows (log_softmax: columns) shared among the cores (loaded only for large work). */
async function parallelJacobian(input: VerifyInput, types: ArithmeticTypes): Promise<MethodResult> {
  const { runJacobianMethodParallel } = await import('../parallel/parallel-jacobian.js');
  const layout = sliceLayout(input.x.shape, input.axis);
  const a = arithmeticFor(input.dtype, types);
  if (input.crossEntropy !== undefined) {
    // log_softmax's explicit method on h = dL/dy, its columns shared; the loss from its y.
    const layer = lossLayer(input.crossEntropy, input.g.data, layout, a);
    const { forward: y, grad } = await runJacobianMethodParallel(input.x.data, layer.h, layout, a, undefined, undefined, undefined, 'log_softmax');
    return crossEntropyOfLogSoftmax(y, grad, input.crossEntropy, layer, layout, a);
  }
  const op = input.op === 'log_softmax' ? 'log_softmax' : 'softmax';
  return runJacobianMethodParallel(input.x.data, input.g.data, layout, a, undefined, undefined, undefined, op);
}

/**
 * The correctly rounded results, loaded and computed only when asked for; or why they were left
 * out: cross_entropy's double-double engine left something undecided, and BigNumber, which would
 * recompute the whole input, is over its budget.
 */
async function referenceFor(
  input: VerifyInput,
  choice: ReferenceChoice,
  allowSlow: boolean,
): Promise<{ readonly reference?: ReferenceResult; readonly skipped?: OverBudget }> {
  if (choice === 'off') return {};
  const engine = choice === 'auto' ? 'double-double' : choice;
  const refusal = engine === 'bignumber' && !allowSlow ? bigNumberOverBudget(input) : undefined;
  if (refusal !== undefined) throw new OverBudgetError(refusal);
  if (input.crossEntropy !== undefined) {
    const { computeCrossEntropyReference } = await import('../reference/cross-entropy-reference.js');
    const bigNumberRefusal = allowSlow ? undefined : bigNumberOverBudget(input);
    const found = await computeCrossEntropyReference(input.x, input.g, input.crossEntropy, input.axis, engine, bigNumberRefusal === undefined);
    return found === undefined ? { skipped: bigNumberRefusal } : { reference: found };
  }
  if (input.op === 'log_softmax') {
    const { computeLogSoftmaxReference } = await import('../reference/log-softmax-reference.js');
    return { reference: await computeLogSoftmaxReference(input.x, input.g, input.axis, engine) };
  }
  const loadBigNumber = async () => (await import('../reference/bignumber-reference.js')).loadBigNumberReference();
  return { reference: await computeReference(input.x, input.g, input.axis, engine, loadBigNumber) };
}
