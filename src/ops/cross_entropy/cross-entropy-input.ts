import { DEFAULT_IGNORE_INDEX, lossShape, type CrossEntropySpec, type Reduction } from './cross-entropy-spec.js';
import { InputError } from '../../input-error.js';
import { formatIndex, formatShape, sameShape, type Tensor } from '../../tensor.js';

/** cross_entropy's fields as a request gives them, read but not yet checked against x. */
export interface CrossEntropyFields {
  readonly g?: Tensor;
  readonly target?: Tensor;
  readonly reduction?: Reduction | string;
  readonly labelSmoothing?: number;
  readonly ignoreIndex?: number;
  readonly weight?: Tensor;
}

/**
 * cross_entropy's fields checked against x, as torch.nn.functional.cross_entropy checks them: a
 * target of class indices has x's shape without the class dimension (a single number for one
 * sample of shape [C]), each index a class or ignore_index; a target of probabilities has x's
 * shape (and no ignore_index); weight has one number per class; g is one number for mean and sum
 * (default 1) and one per sample for none (default all 1). One flat number given where one number
 * is wanted counts as it.
 */
export function crossEntropyFrom(doc: CrossEntropyFields & { readonly expected?: { readonly forward?: Float64Array } }, x: Tensor, axis: number): { spec: CrossEntropySpec; g: Tensor } {
  const classes = x.shape[axis];
  const samples = x.shape.filter((_, d) => d !== axis);
  // A request without its target is refused before (resolve-input.ts: the field is required).
  if (doc.target === undefined) throw new Error('cross_entropy without its target');
  const target = scalarIfOne(doc.target, samples);
  let targetKind: CrossEntropySpec['targetKind'];
  if (sameShape(target.shape, x.shape) && !(samples.length === 0 && target.shape.length === 0)) targetKind = 'probability';
  else if (sameShape(target.shape, samples)) targetKind = 'index';
  else {
    throw new InputError(
      `target has shape ${formatShape(target.shape)}, but x of shape ${formatShape(x.shape)} with classes along dim ${axis} takes class indices of shape ${formatShape(samples)} or probabilities of shape ${formatShape(x.shape)}`,
    );
  }
  const ignoreIndex = doc.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  // PyTorch refuses an ignore_index that names a class for probabilities; a negative one ignores nothing.
  if (targetKind === 'probability' && doc.ignoreIndex !== undefined && doc.ignoreIndex >= 0) {
    throw new InputError('ignore_index is for class-index targets: a target of probabilities (x\'s shape) ignores nothing');
  }
  if (targetKind === 'index') {
    target.data.forEach((t, k) => {
      if (t === ignoreIndex) return;
      if (!Number.isInteger(t) || t < 0 || t >= classes) {
        const where = samples.length === 0 ? '' : formatIndex(k, samples);
        throw new InputError(`target${where} is ${t}, not a class: x has ${classes} classes (0 to ${classes - 1}), and ignore_index is ${ignoreIndex}`);
      }
    });
  }
  if (doc.weight !== undefined && (doc.weight.shape.length !== 1 || doc.weight.shape[0] !== classes)) {
    throw new InputError(`weight has shape ${formatShape(doc.weight.shape)}, but x has ${classes} classes along dim ${axis}: give one weight per class`);
  }
  const spec: CrossEntropySpec = {
    op: 'cross_entropy',
    target,
    targetKind,
    // Read as one of REDUCTIONS at every front door (the field's kind is that choice).
    reduction: (doc.reduction ?? 'mean') as Reduction,
    labelSmoothing: doc.labelSmoothing ?? 0,
    ignoreIndex,
    weight: doc.weight?.data,
  };
  const gShape = lossShape(spec, x.shape, axis);
  const count = gShape.reduce((a, b) => a * b, 1);
  const g = doc.g === undefined ? { shape: gShape, data: new Float64Array(count).fill(1) } : scalarIfOne(doc.g, gShape);
  if (!sameShape(g.shape, gShape)) {
    const wanted = gShape.length === 0 ? `one number (the loss is one number with reduction ${spec.reduction})` : `shape ${formatShape(gShape)}, one per sample`;
    throw new InputError(`g has shape ${formatShape(g.shape)}, but it is the gradient of the loss: ${wanted}`);
  }
  const loss = doc.expected?.forward;
  if (loss !== undefined && loss.length !== count) {
    throw new InputError(`expected.loss has ${loss.length} values, but reduction ${spec.reduction} gives ${gShape.length === 0 ? 'one number' : `one per sample, shape ${formatShape(gShape)}`}`);
  }
  return { spec, g };
}

/** A one-element array where one number is wanted (`--g 0.5`, `--target 3`) as that number. */
function scalarIfOne(tensor: Tensor, wanted: readonly number[]): Tensor {
  return wanted.length === 0 && tensor.data.length === 1 && tensor.shape.length === 1 ? { ...tensor, shape: [] } : tensor;
}
