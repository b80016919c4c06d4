import { sliceLayout } from '../numeric/slices.js';
import type { Tensor } from '../tensor.js';
import { doubleDoubleReferenceSlice } from '../ops/softmax/double-double-reference.js';
import { isLeftUndecided, referenceBySlices, UNLIMITED, type BigNumberPolicy, type LeftUndecided } from './reference-by-slices.js';
import type { ReferenceEngine, ReferenceSlice } from './reference-slice.js';

export interface ReferenceResult {
  /** Softmax and gradient, each element the float64 nearest to the exact value. */
  readonly forward: Float64Array;
  readonly grad: Float64Array;
  readonly engine: ReferenceEngine;
  /** Slices the double-double engine could not decide and BigNumber computed instead. */
  readonly slicesByBigNumber: number;
}

/**
 * The correctly rounded softmax and gradient of a whole input. With `double-double`, a slice where
 * some rounding is too close to call goes to the BigNumber engine, which is loaded only then, as
 * far as `policy` lets it: over that, what was left undecided.
 */
export async function computeReferenceWithin(
  x: Tensor,
  g: Tensor,
  axis: number,
  engine: ReferenceEngine,
  loadBigNumber: (deadline?: number) => Promise<ReferenceSlice>,
  policy: BigNumberPolicy,
): Promise<ReferenceResult | LeftUndecided> {
  const found = await referenceBySlices(x.data, g.data, sliceLayout(x.shape, axis), engine, doubleDoubleReferenceSlice, loadBigNumber, policy);
  return isLeftUndecided(found) ? found : { ...found, engine };
}

/** computeReferenceWithin with no limit on BigNumber: always the whole reference. */
export async function computeReference(
  x: Tensor,
  g: Tensor,
  axis: number,
  engine: ReferenceEngine,
  loadBigNumber: () => Promise<ReferenceSlice>,
): Promise<ReferenceResult> {
  return (await computeReferenceWithin(x, g, axis, engine, loadBigNumber, UNLIMITED)) as ReferenceResult;
}
