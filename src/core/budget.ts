import { opDefinition } from '../ops/index.js';
import { describeBudget, FLAG_WORDS, LIBRARY_WORDS } from './describe-budget.js';
import { WordedError, type Edge } from './run-refusal.js';
import { jacobianNanosecondsPerEntry } from '../parallel/parallel-threshold.js';
import { arithmeticFor, type ArithmeticTypes } from '../numeric/arithmetic.js';
import { type VerifyInput } from './report.js';
import type { OverBudget } from './over-budget.js';

export type { BudgetKind, OverBudget } from './over-budget.js';

/**
 * How much slow work a run may start without being asked twice (`allowSlow`, the CLI's
 * `--allow-slow`), with the cost estimate behind each limit, so that nothing is left to look hung.
 * Work over a limit is data (OverBudget): the run skips it and says so, or refuses to start; the
 * words are describe-budget.ts's.
 */

/**
 * The explicit Jacobian computes every one of the n² entries of each slice, on purpose: 0.08 to
 * 0.2 ns an entry on one thread in the WebAssembly kernels (float64, float32), so 5e9 entries (a
 * GPT-2 row of 50,257 logits is 2.5e9) is under a second, and a 300,000-logit row (9e10) some
 * fifteen seconds. The scalar route of `--compute bfloat16`/`float16` takes 400 ns an entry: its
 * limit is what JACOBIAN_SECONDS_LIMIT allows, so that a GPT-2 row in bfloat16 arithmetic is not a
 * quarter of an hour's silent run.
 */
export const JACOBIAN_ENTRY_LIMIT = 5e9;
export const JACOBIAN_SECONDS_LIMIT = 40;

export function jacobianEntries(input: VerifyInput): number {
  const length = input.x.shape[input.axis];
  const slices = input.x.data.length / length;
  return slices * length * length;
}

/**
 * The explicit Jacobian's work when it is beyond its limit in the run's arithmetic, else
 * undefined. The run then goes on without it (the accurate closed form stands in), so that a
 * vocabulary-sized input still gets its closed form checked in seconds.
 */
export function jacobianOverBudget(input: VerifyInput, types: ArithmeticTypes = {}, entryLimit = JACOBIAN_ENTRY_LIMIT): OverBudget | undefined {
  const entries = jacobianEntries(input);
  const nanoseconds = jacobianNanosecondsPerEntry(arithmeticFor(input.dtype, types));
  const limit = Math.min(entryLimit, Math.floor((JACOBIAN_SECONDS_LIMIT * 1e9) / nanoseconds));
  if (entries <= limit) return undefined;
  return { kind: 'jacobian', entries, limit, seconds: (entries * nanoseconds) / 1e9 };
}

/** About 4 s of the BigNumber engine here (softmax; log_softmax's, with a log and more exps, about 12 s). */
export const BIGNUMBER_ELEMENT_LIMIT = 20_000;

/** The BigNumber reference's work when it is beyond its limit, else undefined. */
export function bigNumberOverBudget(input: VerifyInput): OverBudget | undefined {
  const entries = input.x.data.length;
  if (entries <= BIGNUMBER_ELEMENT_LIMIT) return undefined;
  const perElement = opDefinition(input.op).bigNumberMillisecondsPerElement;
  return { kind: 'bignumber-reference', entries, limit: BIGNUMBER_ELEMENT_LIMIT, seconds: (entries * perElement) / 1000 };
}

/**
 * Central differences run the forward pass twice per element, each pass O(n): 2 Σ n² steps, about
 * 10 ns each here, so the limit is about 2 s.
 */
export const FINITE_DIFFERENCE_STEP_LIMIT = 2e8;
const NANOSECONDS_PER_FINITE_DIFFERENCE_STEP = 10;

/** The finite differences' work when it is beyond its limit, else undefined. */
export function finiteDifferencesOverBudget(input: VerifyInput): OverBudget | undefined {
  const entries = 2 * jacobianEntries(input);
  if (entries <= FINITE_DIFFERENCE_STEP_LIMIT) return undefined;
  return { kind: 'finite-differences', entries, limit: FINITE_DIFFERENCE_STEP_LIMIT, seconds: (entries * NANOSECONDS_PER_FINITE_DIFFERENCE_STEP) / 1e9 };
}

/**
 * `reference: 'auto'` computes the reference up to this many elements: the double-double engine
 * takes about 0.1 µs each (a second at 10^7), about what the closed form and its allowances take.
 */
export const AUTO_REFERENCE_ELEMENT_LIMIT = 10_000_000;
const MICROSECONDS_PER_DOUBLE_DOUBLE_ELEMENT = 0.1;

/** The double-double reference's work when `auto` leaves it out of a large run, else undefined. */
export function autoReferenceOverBudget(input: VerifyInput): OverBudget | undefined {
  const entries = input.x.data.length;
  if (entries <= AUTO_REFERENCE_ELEMENT_LIMIT) return undefined;
  return { kind: 'auto-reference', entries, limit: AUTO_REFERENCE_ELEMENT_LIMIT, seconds: (entries * MICROSECONDS_PER_DOUBLE_DOUBLE_ELEMENT) / 1e6 };
}

/**
 * The BigNumber share of `reference: 'auto'`: the slices double-double leaves undecided (rare:
 * results within about 2^-100 of a rounding midpoint) go to BigNumber as long as that takes about
 * what the rest of a small run does, so that no default run takes more than a few times its run
 * with the reference off. A run costs at least some 0.1 s and about 0.5 µs an element (the methods,
 * the allowances, the comparisons): BigNumber gets 0.4 s + 2 µs an element, at its 64-digit cost
 * (softmax 0.2 ms an element, log_softmax and cross_entropy 0.6 ms), and twice that as a deadline,
 * since a slice BigNumber cannot decide at 64 digits goes on at 256 and 1,000 (up to 100 times the
 * cost). Over either, the reference is left out and the run says so; naming an engine lifts it.
 */
export function autoBigNumberShare(input: VerifyInput): { readonly elements: number; readonly seconds: number } {
  const seconds = 0.4 + 2e-6 * input.x.data.length;
  return { elements: Math.floor((seconds * 1000) / opDefinition(input.op).bigNumberMillisecondsPerElement), seconds };
}

/** The BigNumber share left out, as data: what it would have recomputed, and how long that was estimated (or ran) to take. */
export function bigNumberShareOverBudget(
  input: VerifyInput,
  left: { readonly slices: number; readonly elements: number; readonly ranOutOfTime: boolean },
  limit: number,
  reference: 'auto' | 'double-double',
): OverBudget {
  const perElement = opDefinition(input.op).bigNumberMillisecondsPerElement;
  return {
    kind: 'bignumber-share',
    entries: left.elements,
    limit,
    seconds: left.ranOutOfTime ? (2 * limit * perElement) / 1000 : (left.elements * perElement) / 1000,
    slices: left.slices,
    ranOutOfTime: left.ranOutOfTime,
    reference,
  };
}

/** Work the run was asked for and will not start without `allowSlow`. */
export class OverBudgetError extends WordedError {
  override readonly name = 'OverBudgetError';
  constructor(readonly budget: OverBudget) {
    super(describeBudget(budget, LIBRARY_WORDS));
  }

  wordedFor(edge: Edge): string {
    return describeBudget(this.budget, edge === 'flags' ? FLAG_WORDS : LIBRARY_WORDS);
  }
}
