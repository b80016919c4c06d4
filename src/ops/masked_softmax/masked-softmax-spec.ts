import type { Tensor } from '../../tensor.js';

/** What a fully masked slice's forward output is: NaN (PyTorch's softmax, torch._masked_softmax) or 0 (scaled_dot_product_attention, FlashAttention). */
export const MASKED_ROWS = ['nan', 'zero'] as const;
export type MaskedRows = (typeof MASKED_ROWS)[number];

/** masked_softmax's fields as a request gives them, read but not yet checked against x. */
export interface MaskedSoftmaxFields {
  /** 1 where the element takes part (true), 0 where it is masked out. */
  readonly mask?: Tensor;
  readonly causal?: boolean;
  readonly scale?: number;
  readonly maskedRows?: MaskedRows | string;
}

/**
 * masked_softmax's fields checked against x: which elements take part (`keep`, x's shape, from the
 * mask broadcast over x's leading dims, or from causal), the scale the logits are multiplied by,
 * and what a slice with no element taking part gives.
 */
export interface MaskedSoftmaxSpec {
  readonly op: 'masked_softmax';
  /** 1 where x's element takes part, 0 where it is masked; x's shape, row-major. */
  readonly keep: Uint8Array;
  /** The mask as given (absent: causal, or every element kept). */
  readonly mask?: Tensor;
  readonly causal: boolean;
  readonly scale: number;
  readonly maskedRows: MaskedRows;
}
