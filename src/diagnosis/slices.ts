/** The slices and masks the hypotheses recompute over. */
import { sliceStart, type SliceLayout } from '../numeric/slices.js';

/**
 * A value per element made slice by slice: `fill(at, out)` gets slice k's element indices
 * (`at(j)`) and writes out[at(j)]. The hypotheses' recomputations are written this way.
 */
export function perSlice(layout: SliceLayout, size: number, fill: (at: (j: number) => number, out: Float64Array, k: number) => void): Float64Array {
  const out = new Float64Array(size);
  for (let k = 0; k < layout.count; k++) {
    const start = sliceStart(layout, k);
    fill((j) => start + j * layout.stride, out, k);
  }
  return out;
}

/** Σ_j f(at(j)) over one slice, skipping what is not finite. */
export function sliceSum(layout: SliceLayout, at: (j: number) => number, f: (i: number) => number): number {
  let sum = 0;
  for (let j = 0; j < layout.length; j++) {
    const v = f(at(j));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/** Each slice's Σ_j f(element), non-finite terms skipped; slice k's at k (numeric/slices.ts's sliceOf finds an element's). */
export function sliceSums(layout: SliceLayout, f: (i: number) => number): Float64Array {
  const sums = new Float64Array(layout.count);
  for (let k = 0; k < layout.count; k++) {
    const start = sliceStart(layout, k);
    sums[k] = sliceSum(layout, (j) => start + j * layout.stride, f);
  }
  return sums;
}

/** How many elements a mask marks (1 where marked). */
export function countOf(mask: Uint8Array | undefined): number {
  let n = 0;
  if (mask !== undefined) for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}

/** The indices a mask marks, in order. */
export function indicesOf(mask: Uint8Array | undefined): Int32Array {
  const out = new Int32Array(countOf(mask));
  if (mask !== undefined) for (let i = 0, k = 0; i < mask.length; i++) if (mask[i] === 1) out[k++] = i;
  return out;
}
