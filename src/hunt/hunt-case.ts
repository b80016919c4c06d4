import type { DType } from '../dtype.js';
import type { FieldValue } from '../ops/op-definition.js';
import type { Op } from '../op.js';
import type { Tensor } from '../tensor.js';

/**
 * One input a hunt hands the kernel: x and g in the dtype (their values already rounded to it),
 * the dim, the op's own fields by library name (cross_entropy's target, reduction, …; a mask, its
 * mask, scale), and the input class it was made to exercise.
 */
export interface HuntCase {
  readonly op: Op;
  readonly dtype: DType;
  readonly dim: number;
  readonly x: Tensor;
  readonly g: Tensor;
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** The input class (`width 513`, `large common offset`, `first target ignored`, …): findings are grouped by it. */
  readonly klass: string;
}

/** A case's size, as a report gives it before and after shrinking. */
export function caseSize(c: HuntCase): string {
  return `[${c.x.shape.join(', ')}]`;
}
