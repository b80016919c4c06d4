import type { Random } from '../../numeric/random.js';
import type { Tensor } from '../../tensor.js';
import type { FieldLayout, FieldValue, HuntFields, OpHunt } from '../op-definition.js';
import { DEFAULT_IGNORE_INDEX, REDUCTIONS, type Reduction } from './cross-entropy-spec.js';

/**
 * cross_entropy's input classes from shipped bugs (KERNEL-BUGS.md rows 1–7, 10–11): confident rows,
 * reduction none with a non-uniform g (read as one scalar: Liger 678), the first target ignored,
 * smoothing with ignore_index (PyTorch 73205), all three options at once (PyTorch 69339), every
 * target ignored, ignore_index inside [0, C), weights with zeros, probability targets.
 */
const VARIANTS = [
  'plain index targets',
  'confident rows (target logit = max + 10)',
  'reduction none, non-uniform g',
  'first target ignored',
  'label_smoothing with ignore_index',
  'weight, label_smoothing and ignore_index at once',
  'every target ignored',
  'ignore_index inside [0, C)',
  'weights with zeros',
  'probability targets',
] as const;

export const CROSS_ENTROPY_HUNT: OpHunt = {
  variants: VARIANTS,
  // torch.nn.functional.cross_entropy takes no dim: its classes are dim 1 (dim 0 for one sample).
  fixedDim: true,
  fields(random, x, axis, round, variant) {
    const name = VARIANTS[variant % VARIANTS.length];
    const classes = x.shape[axis];
    const samples = x.data.length / classes;
    const sampleShape = x.shape.filter((_, d) => d !== axis);
    const reduction: Reduction = name === 'reduction none, non-uniform g' ? 'none' : random.pick(REDUCTIONS);
    const fields: Record<string, FieldValue> = { reduction };
    let changedX: Tensor | undefined;
    // One sample of one class: a target of x's shape [1] reads as that sample's class index (PyTorch
    // tells them apart by dtype, which a request's values do not carry), so it takes an index there.
    if (name === 'probability targets' && !(x.shape.length === 1 && classes === 1)) {
      fields.target = probabilityTarget(random, x, axis, round);
    } else {
      const target = Float64Array.from({ length: samples }, () => random.int(0, classes - 1));
      let ignoreIndex = DEFAULT_IGNORE_INDEX;
      if (name === 'ignore_index inside [0, C)') ignoreIndex = random.int(0, classes - 1);
      const ignore = (k: number) => (target[k] = ignoreIndex);
      if (name === 'first target ignored') ignore(0);
      if (name === 'every target ignored') target.forEach((_, k) => ignore(k));
      if (name === 'label_smoothing with ignore_index' || name === 'weight, label_smoothing and ignore_index at once') {
        target.forEach((_, k) => random.chance(0.3) && ignore(k));
      }
      if (ignoreIndex !== DEFAULT_IGNORE_INDEX || target.includes(DEFAULT_IGNORE_INDEX)) fields.ignoreIndex = ignoreIndex;
      fields.target = { shape: sampleShape, data: target };
      if (name === 'confident rows (target logit = max + 10)') changedX = confident(x, axis, target, round);
    }
    if (name.includes('label_smoothing')) fields.labelSmoothing = random.pick([0.05, 0.1, 0.3]);
    if (name.startsWith('weight') || name === 'weights with zeros') {
      fields.weight = { shape: [classes], data: Float64Array.from({ length: classes }, () => (name === 'weights with zeros' && random.chance(0.3) ? 0 : round(0.25 + 2 * random.next()))) };
    }
    // The loss's g: one number for mean and sum, one a sample for none (non-uniform, zeros in places, the first 0 now and then).
    const g: Tensor =
      reduction === 'none'
        ? { shape: sampleShape, data: Float64Array.from({ length: samples }, (_, k) => (k === 0 && random.chance(0.3) ? 0 : random.chance(0.15) ? 0 : round(random.normal() + 1))) }
        : { shape: [], data: Float64Array.of(round(random.pick([1, 0.5, 3, -0.75]))) };
    return { fields, g, ...(changedX === undefined ? {} : { x: changedX }) } satisfies HuntFields;
  },
  ignoredClass(fields) {
    return typeof fields.ignoreIndex === 'number' ? fields.ignoreIndex : DEFAULT_IGNORE_INDEX;
  },
  layouts(fields) {
    const target = fields.target;
    const layouts: Record<string, FieldLayout> = { target: isProbability(target) ? 'element' : 'class-index', weight: 'class' };
    if (fields.reduction === 'none') layouts.g = 'slice';
    return layouts;
  },
};

function isProbability(target: FieldValue | undefined): boolean {
  return typeof target === 'object' && target.data.some((v) => !Number.isInteger(v));
}

/** Each sample's distribution over the classes (a softmax of random logits, rounded to the dtype). */
function probabilityTarget(random: Random, x: Tensor, axis: number, round: (v: number) => number): Tensor {
  const data = new Float64Array(x.data.length);
  const classes = x.shape[axis];
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  for (let k = 0; k < x.data.length / classes; k++) {
    const start = Math.floor(k / inner) * classes * inner + (k % inner);
    const e = Array.from({ length: classes }, () => Math.exp(2 * random.normal()));
    const total = e.reduce((a, b) => a + b, 0);
    e.forEach((v, c) => (data[start + c * inner] = round(v / total)));
  }
  return { shape: x.shape, data };
}

/** x with each sample's target logit at its row's max + 10 (a confident prediction). */
function confident(x: Tensor, axis: number, target: Float64Array, round: (v: number) => number): Tensor {
  const data = Float64Array.from(x.data);
  const classes = x.shape[axis];
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  target.forEach((t, k) => {
    if (t < 0 || t >= classes) return;
    const start = Math.floor(k / inner) * classes * inner + (k % inner);
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, data[start + c * inner]);
    if (Number.isFinite(max)) data[start + t * inner] = round(max + 10);
  });
  return { shape: x.shape, data };
}
