import { FORWARD_NAME } from '../op.js';
import { OP_FIELDS, libraryName } from '../ops/index.js';
import { safetensorsBytes, type StoredTensor } from '../output/safetensors-bytes.js';
import type { HuntCase } from './hunt-case.js';

/**
 * A case as the kernel protocol v1 hands it over (docs/hunt.md): a safetensors file with x and g
 * in the hunt's dtype, the op's array fields (cross_entropy's target, int64 class indices or
 * probabilities in the dtype, and weight; a mask as BOOL), and `__metadata__`
 * strings: op, dim, and the op's other fields (reduction, label_smoothing, ignore_index; scale,
 * causal, masked_rows) under PyTorch's names.
 */
export function kernelInputBytes(hunted: HuntCase): Uint8Array {
  const tensors: StoredTensor[] = [
    { name: 'x', shape: hunted.x.shape, data: hunted.x.data, type: hunted.dtype },
    { name: 'g', shape: hunted.g.shape, data: hunted.g.data, type: hunted.dtype },
  ];
  const metadata: Record<string, string> = { op: hunted.op, dim: String(hunted.dim) };
  for (const field of OP_FIELDS) {
    if (field.op !== hunted.op) continue;
    const value = hunted.fields[libraryName(field)];
    if (value === undefined) continue;
    if (typeof value === 'object') {
      const integral = field.kind.type === 'values' && field.kind.integers === true && value.data.every(Number.isInteger) && value.shape.length !== hunted.x.shape.length;
      const type = field.kind.type === 'mask' ? 'bool' : integral ? 'int64' : hunted.dtype;
      tensors.push({ name: field.key, shape: value.shape, data: value.data, type });
    } else metadata[field.key] = String(value);
  }
  return safetensorsBytes(tensors, metadata);
}

/** The names the kernel's results go by in its output file: the forward output's (softmax, log_softmax, loss) and grad. */
export function resultNames(hunted: HuntCase): { readonly forward: string; readonly grad: 'grad' } {
  return { forward: FORWARD_NAME[hunted.op], grad: 'grad' };
}
