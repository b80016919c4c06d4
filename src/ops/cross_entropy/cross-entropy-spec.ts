import type { Tensor } from '../../tensor.js';

/** torch.nn.functional.cross_entropy's reductions. */
export const REDUCTIONS = ['mean', 'sum', 'none'] as const;
export type Reduction = (typeof REDUCTIONS)[number];

/** PyTorch's default ignore_index. */
export const DEFAULT_IGNORE_INDEX = -100;

/**
 * What cross_entropy needs beside x and g, checked against x: the target (class indices in x's
 * shape without the class dimension, or class probabilities in x's shape), the reduction, label
 * smoothing, ignore_index (index targets only) and the per-class weights.
 */
export interface CrossEntropySpec {
  readonly op: 'cross_entropy';
  readonly target: Tensor;
  readonly targetKind: 'index' | 'probability';
  readonly reduction: Reduction;
  readonly labelSmoothing: number;
  readonly ignoreIndex: number;
  /** One weight per class, in the dtype; absent: every class 1. */
  readonly weight?: Float64Array;
}

/** The loss's shape: one number for mean and sum, one per sample (x's shape without the class dimension) for none. */
export function lossShape(spec: CrossEntropySpec, xShape: readonly number[], axis: number): number[] {
  return spec.reduction === 'none' ? xShape.filter((_, d) => d !== axis) : [];
}
