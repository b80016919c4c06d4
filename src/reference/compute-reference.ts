import { forEachSlice, sliceLayout } from '../methods/slices.js';
import type { Tensor } from '../tensor.js';
import { doubleDoubleReferenceSlice } from './double-double-reference.js';
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
 * some rounding is too close to call goes to the BigNumber engine, which is loaded only then.
 */
export async function computeReference(
  x: Tensor,
  g: Tensor,
  axis: number,
  engine: ReferenceEngine,
  loadBigNumber: () => Promise<ReferenceSlice>,
): Promise<ReferenceResult> {
  const layout = sliceLayout(x.shape, axis);
  const softmax = new Float64Array(x.data.length);
  const grad = new Float64Array(x.data.length);
  const undecided = new Set<number>();
  if (engine === 'double-double') {
    forEachSlice(layout, [x.data, g.data], [softmax, grad], ([xs, gs], [s, d], k) => {
      if (!doubleDoubleReferenceSlice(xs, gs, s, d)) undecided.add(k);
    });
  }
  if (engine === 'bignumber' || undecided.size > 0) {
    const bigNumber = await loadBigNumber();
    // The slices already decided pass through unchanged (as inputs, since every output is written).
    forEachSlice(layout, [x.data, g.data, softmax, grad], [softmax, grad], ([xs, gs, s0, d0], [s, d], k) => {
      if (engine === 'bignumber' || undecided.has(k)) bigNumber(xs, gs, s, d);
      else {
        s.set(s0);
        d.set(d0);
      }
    });
  }
  return { forward: softmax, grad, engine, slicesByBigNumber: engine === 'bignumber' ? layout.count : undecided.size };
}
