import { maskedSoftmaxFrom } from './masked-softmax-input.js';
import type { Tensor } from '../../tensor.js';
import type { FieldValue, OpHunt } from '../op-definition.js';

/**
 * masked_softmax's input classes from shipped bugs (KERNEL-BUGS.md rows 18–21): random masks, all
 * but one element masked, fully masked rows (NaN, or a finite sentinel's leak), causal with q ≠ k,
 * masked logits far larger than the kept ones, attention's scales.
 */
const VARIANTS = ['random mask', 'all but one masked', 'fully masked rows', 'causal', 'masked logits far above the kept ones', 'scale 1/sqrt(d)'] as const;

export const MASKED_SOFTMAX_HUNT: OpHunt = {
  variants: VARIANTS,
  fields(random, x, axis, round, variant) {
    const name = VARIANTS[variant % VARIANTS.length];
    const scale = name === 'scale 1/sqrt(d)' ? 1 / Math.sqrt(random.pick([40, 64, 72, 96, 104, 128])) : random.pick([1, 0.125, 0.5]);
    const fields: Record<string, FieldValue> = { scale };
    if (name === 'causal' && x.shape.length >= 2) return { fields: { ...fields, causal: true } };
    const n = x.shape[axis];
    const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const keep = new Float64Array(x.data.length).fill(1);
    const slices = x.data.length / n;
    let changedX: Tensor | undefined;
    for (let k = 0; k < slices; k++) {
      const start = Math.floor(k / inner) * n * inner + (k % inner);
      const at = (j: number) => start + j * inner;
      const kept = random.int(0, n - 1);
      for (let j = 0; j < n; j++) {
        if (name === 'all but one masked') keep[at(j)] = j === kept ? 1 : 0;
        else if (name === 'fully masked rows') keep[at(j)] = k % 2 === 0 ? 0 : random.chance(0.2) ? 0 : 1;
        else keep[at(j)] = random.chance(0.25) && j !== kept ? 0 : 1;
      }
    }
    if (name === 'masked logits far above the kept ones') {
      const data = Float64Array.from(x.data, (v, i) => (keep[i] === 0 ? round(v + 1e4) : v));
      changedX = { shape: x.shape, data };
    }
    return { fields: { ...fields, mask: { shape: x.shape, data: keep } }, ...(changedX === undefined ? {} : { x: changedX }) };
  },
  layouts: () => ({ mask: 'element' }),
  explicit(fields, xShape) {
    if (fields.causal !== true) return fields;
    const { causal: _, ...rest } = fields;
    const { spec } = maskedSoftmaxFrom({ causal: true }, { shape: xShape, data: new Float64Array(xShape.reduce((a, b) => a * b, 1)) });
    return { ...rest, mask: { shape: [...xShape], data: Float64Array.from(spec.keep) } };
  },
};
