import { sliceLayout } from '../../numeric/slices.js';
import type { Tensor } from '../../tensor.js';
import { doubleDoubleReferenceSlice } from './double-double-reference.js';
import { isLeftUndecided, referenceBySlices, UNLIMITED, type BigNumberPolicy, type LeftUndecided } from '../../reference/reference-by-slices.js';
import type { ReferenceEngine, ReferenceSlice } from '../../reference/reference-slice.js';
import type { ReferenceResult } from '../../reference/reference-result.js';

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
