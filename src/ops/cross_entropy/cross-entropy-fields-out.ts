import { formatShape } from '../../tensor.js';
import type { OpFieldsOut, OpSpec, WrittenField } from '../op-definition.js';
import { lossShape, type CrossEntropySpec } from './cross-entropy-spec.js';

/** cross_entropy's fields as fixtures, reports and the library give them back. */
export const CROSS_ENTROPY_FIELDS_OUT: OpFieldsOut = {
  written(spec) {
    const own = crossEntropySpec(spec);
    const fields: WrittenField[] = [
      { key: 'target', value: own.target, ...(own.targetKind === 'index' ? { as: 'integers' as const } : {}) },
      { key: 'reduction', value: own.reduction },
      { key: 'label_smoothing', value: own.labelSmoothing },
    ];
    if (own.targetKind === 'index') fields.push({ key: 'ignore_index', value: own.ignoreIndex, as: 'integers' });
    if (own.weight !== undefined) fields.push({ key: 'weight', value: { shape: [own.weight.length], data: own.weight } });
    return fields;
  },
  reported(spec) {
    const own = crossEntropySpec(spec);
    return {
      target: own.target,
      targetKind: own.targetKind,
      reduction: own.reduction,
      labelSmoothing: own.labelSmoothing,
      ignoreIndex: own.targetKind === 'index' ? own.ignoreIndex : null,
      weight: own.weight === undefined ? null : { shape: [own.weight.length], data: own.weight },
    };
  },
  described(spec, g, formatValue) {
    const own = crossEntropySpec(spec);
    const parts = [
      own.targetKind === 'index' ? 'class indices' : 'class probabilities',
      `reduction ${own.reduction}`,
      ...(own.labelSmoothing === 0 ? [] : [`label_smoothing ${own.labelSmoothing}`]),
      ...(own.targetKind === 'index' ? [`ignore_index ${own.ignoreIndex}`] : []),
      own.weight === undefined ? 'no weights' : 'class weights',
    ];
    const upstream = g.shape.length === 0 ? `g ${formatValue(g.data[0])}` : `g one a sample, shape ${formatShape(g.shape)}`;
    return `target: ${parts.join(', ')}; ${upstream} (the loss's upstream gradient)`;
  },
  forwardShape: (spec, xShape, axis) => lossShape(crossEntropySpec(spec), xShape, axis),
  ignoresSlice(spec, k) {
    const own = crossEntropySpec(spec);
    return own.targetKind === 'index' && own.target.data[k] === own.ignoreIndex;
  },
};

/** The spec as cross_entropy's own (every piece of the op reads it through this). */
export function crossEntropySpec(spec: OpSpec | undefined): CrossEntropySpec {
  if (spec?.op !== 'cross_entropy') throw new Error('cross_entropy without its target');
  return spec;
}
