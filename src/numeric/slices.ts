/**
 * How an N-dimensional row-major array splits into the 1-D slices that softmax runs along.
 *
 * For shape `[..outer, length, ..inner]` and `dim` pointing at `length`, slice `k` starts at
 * `floor(k / inner) * length * inner + k % inner` and steps by `inner`: there are `outer * inner`
 * slices of `length` elements each.
 */

export interface SliceLayout {
  /** Elements in one slice: `shape[dim]`. */
  readonly length: number;
  /** Distance between neighbours of a slice in the flat data: the product of the sizes after `dim`. */
  readonly stride: number;
  /** Number of slices: every element belongs to exactly one. */
  readonly count: number;
}

/** `dim` must already be normalised to `0 <= dim < shape.length`. */
export function sliceLayout(shape: readonly number[], dim: number): SliceLayout {
  const length = shape[dim];
  let stride = 1;
  for (let d = dim + 1; d < shape.length; d++) stride *= shape[d];
  let outer = 1;
  for (let d = 0; d < dim; d++) outer *= shape[d];
  return { length, stride, count: outer * stride };
}

/** The slice an element belongs to, in the numbering of `forEachSlice` and sliceStart. */
export function sliceOf(layout: SliceLayout, i: number): number {
  const { length, stride } = layout;
  if (stride === 1) return Math.floor(i / length);
  return Math.floor(i / (length * stride)) * stride + (i % stride);
}

/** Slice k's largest finite value, −∞ when it has none (softmax's shift, leaving −∞ masks and NaN out). */
export function largestFinite(data: ArrayLike<number>, layout: SliceLayout, k: number): number {
  const start = sliceStart(layout, k);
  let max = -Infinity;
  for (let j = 0; j < layout.length; j++) {
    const v = data[start + j * layout.stride];
    if (Number.isFinite(v) && v > max) max = v;
  }
  return max;
}

export function sliceStart(layout: SliceLayout, k: number): number {
  const outer = Math.floor(k / layout.stride);
  return outer * layout.length * layout.stride + (k % layout.stride);
}

/** Slice k as an index with `:` along the softmax dim, e.g. `[1, :]`: the form every report uses. */
export function sliceLabel(layout: SliceLayout, shape: readonly number[], axis: number, k: number): string {
  let flat = sliceStart(layout, k);
  const index = new Array<string>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = d === axis ? ':' : String(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return `[${index.join(', ')}]`;
}

/**
 * Runs `body` on each slice as contiguous arrays and writes its outputs back in place.
 *
 * Contiguous slices (the last dim) are passed as views, with no copy; strided ones are gathered
 * into scratch buffers that are reused across slices, so a body must write every output element.
 */
export function forEachSlice(
  layout: SliceLayout,
  inputs: readonly Float64Array[],
  outputs: readonly Float64Array[],
  body: (inputs: Float64Array[], outputs: Float64Array[], slice: number) => void,
): void {
  const { length, stride, count } = layout;
  if (stride === 1) {
    for (let k = 0; k < count; k++) {
      const start = k * length;
      body(
        inputs.map((a) => a.subarray(start, start + length)),
        outputs.map((a) => a.subarray(start, start + length)),
        k,
      );
    }
    return;
  }
  const inScratch = inputs.map(() => new Float64Array(length));
  const outScratch = outputs.map(() => new Float64Array(length));
  for (let k = 0; k < count; k++) {
    const start = sliceStart(layout, k);
    inputs.forEach((a, m) => {
      const buf = inScratch[m];
      for (let j = 0; j < length; j++) buf[j] = a[start + j * stride];
    });
    body(inScratch, outScratch, k);
    outputs.forEach((a, m) => {
      const buf = outScratch[m];
      for (let j = 0; j < length; j++) a[start + j * stride] = buf[j];
    });
  }
}

/**
 * The slices that elements `first` to `end` fall in, counted across the slices (element j of
 * slice k is k · length + j), each with its part [from, to) and its own copies of the arrays'
 * values (`inputs`): one thread's share of a parallel run. Copied even when contiguous: the arrays
 * may be shared memory, and the loops stay on plain arrays as in a one-thread run (V8 would
 * otherwise deoptimise them on the first shared one). `write(j, value)` stores element j of the
 * slice in `output`.
 */
export function forEachSlicePart(
  layout: SliceLayout,
  first: number,
  end: number,
  inputs: readonly Float64Array[],
  output: Float64Array,
  body: (slices: Float64Array[], from: number, to: number, write: (j: number, value: number) => void) => void,
): void {
  const { length: n, stride } = layout;
  if (n === 0) return;
  const copies = inputs.map(() => new Float64Array(n));
  for (let k = Math.floor(first / n); k * n < end; k++) {
    const from = Math.max(first - k * n, 0);
    const to = Math.min(end - k * n, n);
    const start = sliceStart(layout, k);
    inputs.forEach((values, m) => {
      const copy = copies[m];
      if (stride === 1) copy.set(values.subarray(start, start + n));
      else for (let j = 0; j < n; j++) copy[j] = values[start + j * stride];
    });
    body(copies, from, to, (j, value) => (output[start + j * stride] = value));
  }
}
