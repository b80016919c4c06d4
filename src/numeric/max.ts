/**
 * The largest element, or NaN when any element is NaN.
 *
 * The max shift must see a NaN logit: skipping it would let the rest of the slice produce finite
 * probabilities that PyTorch, which propagates the NaN through the whole slice, does not.
 */
export function maxPropagatingNaN(values: Float64Array): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v > max) max = v;
    else if (v !== v) return NaN;
  }
  return max;
}
