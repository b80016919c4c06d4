import { forEachSlice, type SliceLayout } from '../numeric/slices.js';

/** A forward pass over every slice, one slice at a time, into a new array. */
export function sliceForward(x: Float64Array, layout: SliceLayout, slice: (xs: Float64Array, out: Float64Array) => void): Float64Array {
  const out = new Float64Array(x.length);
  forEachSlice(layout, [x], [out], ([xs], [ys]) => slice(xs, ys));
  return out;
}
