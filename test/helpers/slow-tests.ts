/**
 * The one switch for the heavy tests: with SOFTMAX_VERIFY_SLOW_TESTS=1 (`npm run test:slow`) the
 * property and fuzz runs and the big loops take their full counts; by default a tenth of them, so
 * that `npm test` stays quick.
 */
export const SLOW_TESTS = process.env.SOFTMAX_VERIFY_SLOW_TESTS === '1';

/** How many of `full` runs (cases, slices, attempts) to take: all with SOFTMAX_VERIFY_SLOW_TESTS=1, else a tenth, at least 1. */
export function runs(full: number): number {
  return SLOW_TESTS ? full : Math.max(1, Math.round(full / 10));
}
