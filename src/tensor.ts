import type { DType } from './dtype.js';

/** A dense row-major float64 array with its shape; the form every input takes once parsed. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
  /**
   * The dtype the values were stored in, for arrays read from a binary file (.npy, .npz,
   * safetensors): a run with no --dtype takes it from there. Absent for values given as text.
   */
  readonly stored?: DType;
}

/** Deeper nesting than this is refused before it can exhaust the stack (PyTorch allows 64 dims too). */
export const MAX_RANK = 64;

/**
 * PyTorch's rule for `dim`: `-rank <= dim < rank`, negative counting from the end.
 * Returns the axis in `0..rank-1`, or undefined when out of range.
 */
export function normaliseDim(dim: number, rank: number): number | undefined {
  if (!Number.isInteger(dim) || dim < -rank || dim >= rank) return undefined;
  return dim < 0 ? dim + rank : dim;
}

export function multiIndex(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}

/** `[1, 3]` for a flat index into shape `[2, 4]`; the form every report uses. */
export function formatIndex(flat: number, shape: readonly number[]): string {
  return `[${multiIndex(flat, shape).join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, d) => size === b[d]);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Rebuilds nested arrays of `shape` from flat data (for JSON output). */
export function toNested<T>(data: ArrayLike<number>, shape: readonly number[], map: (v: number) => T): unknown[] {
  let offset = 0;
  const build = (d: number): unknown[] => {
    const out = new Array<unknown>(shape[d]);
    for (let i = 0; i < shape[d]; i++) out[i] = d === shape.length - 1 ? map(data[offset++]) : build(d + 1);
    return out;
  };
  return build(0);
}
