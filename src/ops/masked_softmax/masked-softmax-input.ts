import { InputError } from '../../input-error.js';
import { formatShape, type Tensor } from '../../tensor.js';
import { MASKED_ROWS, type MaskedRows, type MaskedSoftmaxFields, type MaskedSoftmaxSpec } from './masked-softmax-spec.js';

/**
 * masked_softmax's fields checked against x: a mask of x's shape, or of a shape that broadcasts to
 * it (NumPy's rule: trailing dims equal or 1, as scaled_dot_product_attention's attn_mask of
 * [B, 1, L, S] or [L, S]); or causal, which keeps j ≤ i over x's last two dims, top-left aligned
 * as PyTorch's is_causal (and, like scaled_dot_product_attention, not together with a mask).
 */
export function maskedSoftmaxFrom(given: MaskedSoftmaxFields, x: Tensor): { spec: MaskedSoftmaxSpec } {
  const causal = given.causal === true;
  if (causal && given.mask !== undefined) throw new InputError('mask and causal are both given: give one (causal is the mask that keeps j ≤ i)');
  if (causal && x.shape.length < 2) throw new InputError(`causal needs x of rank 2 or more (it keeps j ≤ i over the last two dims), but x has shape ${formatShape(x.shape)}`);
  const scale = given.scale ?? 1;
  const maskedRows = (given.maskedRows ?? 'nan') as MaskedRows;
  if (!MASKED_ROWS.includes(maskedRows)) throw new InputError(`masked_rows must be one of ${MASKED_ROWS.join(', ')}`);
  const keep = causal ? causalKeep(x.shape) : given.mask === undefined ? new Uint8Array(x.data.length).fill(1) : broadcastMask(given.mask, x.shape);
  return { spec: { op: 'masked_softmax', keep, ...(given.mask === undefined ? {} : { mask: given.mask }), causal, scale, maskedRows } };
}

/** j ≤ i over the last two dims (rows i, columns j), for every leading index. */
function causalKeep(shape: readonly number[]): Uint8Array {
  const rows = shape[shape.length - 2];
  const columns = shape[shape.length - 1];
  const keep = new Uint8Array(shape.reduce((a, b) => a * b, 1));
  for (let k = 0; k < keep.length; k++) {
    const j = k % columns;
    const i = Math.floor(k / columns) % rows;
    keep[k] = j <= i ? 1 : 0;
  }
  return keep;
}

/** The mask broadcast to x's shape; a shape that does not broadcast is refused, naming both. */
function broadcastMask(mask: Tensor, shape: readonly number[]): Uint8Array {
  const offset = shape.length - mask.shape.length;
  const fits = offset >= 0 && mask.shape.every((size, d) => size === shape[d + offset] || size === 1);
  if (!fits) {
    throw new InputError(`mask has shape ${formatShape(mask.shape)}, which does not broadcast to x's ${formatShape(shape)}: give x's shape, or its trailing dims (each the same or 1)`);
  }
  // Row-major strides of the mask, 0 along a broadcast (size-1 or missing) dim.
  const strides = new Array<number>(shape.length).fill(0);
  let stride = 1;
  for (let d = mask.shape.length - 1; d >= 0; d--) {
    strides[d + offset] = mask.shape[d] === 1 ? 0 : stride;
    stride *= mask.shape[d];
  }
  const keep = new Uint8Array(shape.reduce((a, b) => a * b, 1));
  const index = new Array<number>(shape.length).fill(0);
  let at = 0;
  for (let k = 0; k < keep.length; k++) {
    keep[k] = mask.data[at] === 0 ? 0 : 1;
    // Step the multi-index, moving `at` by the strides of the dims that roll over.
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      at += strides[d];
      if (index[d] < shape[d]) break;
      at -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return keep;
}
