import { forEachSlice, sliceLayout } from '../../src/numeric/slices.js';
import type { ReferenceSlice } from '../../src/reference/reference-slice.js';
import { normaliseDim, type Tensor } from '../../src/tensor.js';

/** A reference engine over a whole N-D input, along `dim`. */
export function runReference(engine: ReferenceSlice, x: Tensor, g: Tensor, dim = -1) {
  const softmax = new Float64Array(x.data.length);
  const grad = new Float64Array(x.data.length);
  const layout = sliceLayout(x.shape, normaliseDim(dim, x.shape.length)!);
  forEachSlice(layout, [x.data, g.data], [softmax, grad], ([xs, gs], [s, d]) => engine(xs, gs, s, d));
  return { softmax, grad };
}

/** Indices where two arrays differ in any bit (NaN payloads aside). */
export function bitDifferences(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  return differences(a, b, (u, v) => Object.is(u, v));
}

/** Indices where two arrays hold different float64 values: as bitDifferences, but -0 equals 0. */
export function valueDifferences(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  return differences(a, b, (u, v) => u === v);
}

function differences(a: ArrayLike<number>, b: ArrayLike<number>, same: (u: number, v: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (!same(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) out.push(i);
  }
  return out;
}
