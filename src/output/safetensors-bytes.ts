import { bfloat16Bits, float16Bits } from '../numeric/round-dtype.js';
import type { DType } from '../dtype.js';

/** A tensor as a safetensors file stores it: its values (already in the dtype), shape and stored type. */
export interface StoredTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
  readonly type: DType | 'int64' | 'bool';
}

const CODE: Readonly<Record<StoredTensor['type'], { code: string; size: number }>> = {
  float64: { code: 'F64', size: 8 },
  float32: { code: 'F32', size: 4 },
  float16: { code: 'F16', size: 2 },
  bfloat16: { code: 'BF16', size: 2 },
  int64: { code: 'I64', size: 8 },
  bool: { code: 'BOOL', size: 1 },
};

/**
 * A safetensors file's bytes (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header size, the JSON header (each tensor's dtype, shape and byte range; `__metadata__` strings),
 * padded with spaces to 8 bytes, then the data, little-endian, in C order. Values must already be
 * in their type: a float16 or bfloat16 one is written as its bits, not rounded here.
 */
export function safetensorsBytes(tensors: readonly StoredTensor[], metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const header: Record<string, unknown> = Object.keys(metadata).length === 0 ? {} : { __metadata__: metadata };
  let offset = 0;
  for (const tensor of tensors) {
    const bytes = tensor.data.length * CODE[tensor.type].size;
    header[tensor.name] = { dtype: CODE[tensor.type].code, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (new TextEncoder().encode(text).length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const tensor of tensors) {
    const { size } = CODE[tensor.type];
    for (let k = 0; k < tensor.data.length; k++, at += size) {
      const v = tensor.data[k];
      switch (tensor.type) {
        case 'float64':
          view.setFloat64(at, v, true);
          break;
        case 'float32':
          view.setFloat32(at, v, true);
          break;
        case 'float16':
          view.setUint16(at, float16Bits(v), true);
          break;
        case 'bfloat16':
          view.setUint16(at, bfloat16Bits(v), true);
          break;
        case 'int64':
          view.setBigInt64(at, BigInt(v), true);
          break;
        case 'bool':
          view.setUint8(at, v === 0 ? 0 : 1);
          break;
      }
    }
  }
  return out;
}
