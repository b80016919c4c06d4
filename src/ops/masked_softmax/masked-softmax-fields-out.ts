import { formatShape } from '../../tensor.js';
import type { OpFieldsOut, OpSpec, WrittenField } from '../op-definition.js';
import type { MaskedSoftmaxSpec } from './masked-softmax-spec.js';

/** masked_softmax's fields as fixtures, reports and the library give them back (in the order PyTorch's fixtures have them). */
export const MASKED_SOFTMAX_FIELDS_OUT: OpFieldsOut = {
  written(spec) {
    const own = maskedSoftmaxSpec(spec);
    const fields: WrittenField[] = [{ key: 'scale', value: own.scale }];
    if (own.causal) fields.push({ key: 'causal', value: true });
    if (own.mask !== undefined) fields.push({ key: 'mask', value: own.mask, as: 'booleans' });
    fields.push({ key: 'masked_rows', value: own.maskedRows });
    return fields;
  },
  reported(spec) {
    const own = maskedSoftmaxSpec(spec);
    return { mask: own.mask ?? null, causal: own.causal, scale: own.scale, maskedRows: own.maskedRows };
  },
  described(spec, _g, formatValue) {
    const own = maskedSoftmaxSpec(spec);
    const kept = own.keep.reduce((sum, k) => sum + k, 0);
    const which = own.causal ? 'causal (j ≤ i over the last two dims)' : own.mask === undefined ? 'none' : formatShape(own.mask.shape);
    const rows = own.maskedRows === 'nan' ? 'NaN' : '0';
    return `mask: ${which}, ${kept} of ${own.keep.length} elements kept; scale ${formatValue(own.scale)}; a fully masked slice gives ${rows} forward and 0 gradient`;
  },
  keeps: (spec, i) => maskedSoftmaxSpec(spec).keep[i] === 1,
  // scale·x in float64: a negative scale turns +∞ into −∞, a large one overflows to ±∞.
  logitsSeen: (spec, x) => {
    const { scale } = maskedSoftmaxSpec(spec);
    return x.map((v) => scale * v);
  },
};

/** The spec as masked_softmax's own (every piece of the op reads it through this). */
export function maskedSoftmaxSpec(spec: OpSpec | undefined): MaskedSoftmaxSpec {
  if (spec?.op !== 'masked_softmax') throw new Error('masked_softmax without its mask');
  return spec;
}
