import fc from 'fast-check';
import { runs } from './slow-tests.js';

/**
 * Property runs: bounded so the suite stays quick (300 with SOFTMAX_VERIFY_SLOW_TESTS=1, else a
 * tenth: see slow-tests.ts); PROPERTY_RUNS=100000 asks for a long run.
 */
export const PROPERTY_RUNS = Number(process.env.PROPERTY_RUNS ?? runs(300));
export const PROPERTY_SEED = Number(process.env.PROPERTY_SEED ?? 20261127);
export const PROPERTY_OPTIONS = { numRuns: PROPERTY_RUNS, seed: PROPERTY_SEED };
/** A time limit that grows with the number of runs asked for. */
export const propertyTimeout = (msPerRun: number): number => 10_000 + PROPERTY_RUNS * msPerRun;

/**
 * One random slice [x, g]: logits on a grid of 2^-20 over small and float64-range spreads, with
 * equal logits, 37.43 (PyTorch issue 195684) and masks likely, and g of any size up to 1e3.
 * No two logits differ by a subnormal amount: with a g built to land exactly on a rounding tie
 * that would put the true result within 1e-320 of the tie, beyond what any fixed precision decides.
 */
export function randomSlice(maxLength: number): fc.Arbitrary<[number[], number[]]> {
  const grid = (range: number) => fc.integer({ min: -range * 2 ** 20, max: range * 2 ** 20 }).map((k) => k * 2 ** -20);
  const logit = fc.oneof(grid(5), grid(800), fc.constantFrom(0, 37.43, -Infinity, -1.7976931348623157e308));
  const gradient = fc.double({ min: -1e3, max: 1e3, noNaN: true });
  return fc
    .integer({ min: 1, max: maxLength })
    .chain((n) => fc.tuple(fc.array(logit, { minLength: n, maxLength: n }), fc.array(gradient, { minLength: n, maxLength: n })));
}
