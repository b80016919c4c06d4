import type { ReferenceEngine } from './reference-slice.js';

/** The correctly rounded results of one input, and how they were found. */
export interface ReferenceResult {
  /** The forward output and gradient, each element the float64 nearest to the exact value. */
  readonly forward: Float64Array;
  readonly grad: Float64Array;
  readonly engine: ReferenceEngine;
  /** Slices the double-double engine could not decide and BigNumber computed instead. */
  readonly slicesByBigNumber: number;
}
