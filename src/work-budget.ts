import { jacobianNanosecondsPerEntry } from './math/parallel-threshold.js';
import { arithmeticFor } from './numeric/arithmetic.js';
import type { VerifyInput } from './verify.js';

/**
 * How much slow work a run may start without being asked twice (`--allow-slow`), with the cost
 * estimates behind each limit, so that nothing is left to look hung.
 *
 * The explicit Jacobian computes every one of the n² entries of each slice, on purpose: 0.08 to
 * 0.2 ns an entry on one thread in the WebAssembly kernels (float64, float32), so 5e9 entries (a
 * GPT-2 row of 50,257 logits is 2.5e9) is under a second, and a 300,000-logit row (9e10) some
 * fifteen seconds. Beyond the limit it is skipped, with the estimate.
 */
export const JACOBIAN_ENTRY_LIMIT = 5e9;

export function jacobianEntries(input: VerifyInput): number {
  const length = input.x.shape[input.axis];
  const slices = input.x.data.length / length;
  return slices * length * length;
}

/**
 * Why the explicit Jacobian should not run without `--allow-slow`, or undefined when it is within
 * the limit. The run then goes on without it (the accurate closed form stands in), so that a
 * vocabulary-sized input still gets its closed form checked in seconds.
 */
export function jacobianRefusal(input: VerifyInput): string | undefined {
  const entries = jacobianEntries(input);
  if (entries <= JACOBIAN_ENTRY_LIMIT) return undefined;
  const length = input.x.shape[input.axis];
  const seconds = (entries * jacobianNanosecondsPerEntry(arithmeticFor(input.dtype))) / 1e9;
  const slices = input.x.data.length / length;
  return (
    `it would compute ${exponent(entries)} entries ` +
    `(${slices === 1 ? '1 slice' : `${slices} slices`} of ${length}), about ${formatDuration(seconds)} on one thread here, ` +
    `beyond the limit of ${exponent(JACOBIAN_ENTRY_LIMIT)}; --allow-slow runs it`
  );
}

function exponent(value: number): string {
  return value.toExponential(1).replace('e+', 'e');
}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** About 4 s of the BigNumber engine here. */
export const BIGNUMBER_ELEMENT_LIMIT = 20_000;
const MILLISECONDS_PER_BIGNUMBER_ELEMENT = 0.2;

/** Why `--reference bignumber` should not start without `--allow-slow`, or undefined. */
export function bigNumberRefusal(input: VerifyInput): string | undefined {
  const elements = input.x.data.length;
  if (elements <= BIGNUMBER_ELEMENT_LIMIT) return undefined;
  const seconds = (elements * MILLISECONDS_PER_BIGNUMBER_ELEMENT) / 1000;
  return (
    `the BigNumber reference would take about ${formatDuration(seconds)} for ${elements} elements ` +
    `(the limit is ${BIGNUMBER_ELEMENT_LIMIT}): add --allow-slow to run it anyway, or use --reference double-double`
  );
}

/**
 * Central differences run the forward pass twice per element, each pass O(n): 2 Σ n² steps, about
 * 10 ns each here, so the limit is about 2 s.
 */
export const FINITE_DIFFERENCE_STEP_LIMIT = 2e8;
const NANOSECONDS_PER_FINITE_DIFFERENCE_STEP = 10;

/** Why `--fd` should not start without `--allow-slow`, or undefined. */
export function finiteDifferenceRefusal(input: VerifyInput): string | undefined {
  const steps = 2 * jacobianEntries(input);
  if (steps <= FINITE_DIFFERENCE_STEP_LIMIT) return undefined;
  const seconds = (steps * NANOSECONDS_PER_FINITE_DIFFERENCE_STEP) / 1e9;
  return (
    `finite differences are O(n²): ${exponent(steps)} forward-pass steps here, about ${formatDuration(seconds)} ` +
    `(the limit is ${exponent(FINITE_DIFFERENCE_STEP_LIMIT)}): add --allow-slow to run them anyway`
  );
}

/**
 * `--reference auto` computes the reference up to this many elements: the double-double engine
 * takes about 0.1 µs each (a second at 10^7), about what the closed form and its allowances take.
 */
export const AUTO_REFERENCE_ELEMENT_LIMIT = 10_000_000;
const MICROSECONDS_PER_DOUBLE_DOUBLE_ELEMENT = 0.1;

/** Why `--reference auto` leaves the reference out of a large run, or undefined. */
export function autoReferenceSkip(input: VerifyInput): string | undefined {
  const elements = input.x.data.length;
  if (elements <= AUTO_REFERENCE_ELEMENT_LIMIT) return undefined;
  const seconds = (elements * MICROSECONDS_PER_DOUBLE_DOUBLE_ELEMENT) / 1e6;
  return `not computed for ${elements} elements by --reference auto (limit ${AUTO_REFERENCE_ELEMENT_LIMIT}); --reference double-double computes it, in about ${formatDuration(seconds)}`;
}
