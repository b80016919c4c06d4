import { describe, expect, test } from 'vitest';
import type { HuntCase } from '../../src/hunt/hunt-case.js';
import { shrinkCase } from '../../src/hunt/shrink.js';
import type { Tensor } from '../../src/tensor.js';

const tensor = (shape: number[], values: (k: number) => number): Tensor => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) => values(k)) });

/** Four samples of 50 classes, their targets spread over the classes. */
function crossEntropyCase(targets: number[], ignoreIndex?: number): HuntCase {
  return {
    op: 'cross_entropy',
    dtype: 'float32',
    dim: 1,
    x: tensor([4, 50], (k) => (k % 7) - 3),
    g: tensor([], () => 1),
    fields: { target: { shape: [4], data: Float64Array.from(targets) }, reduction: 'mean', ...(ignoreIndex === undefined ? {} : { ignoreIndex }) },
    klass: 'test',
  };
}

const targetsOf = (c: HuntCase) => Array.from((c.fields.target as Tensor).data);

describe('shrinking a cross_entropy case', () => {
  test('drops classes a target names: the target takes the nearest class kept', async () => {
    // A kernel wrong only with four samples (its vector lanes full): they must stay, and their classes go.
    const { found } = await shrinkCase(crossEntropyCase([3, 17, 42, 49]), async (c) => c.x.shape[0] === 4);
    expect([found.x.shape, targetsOf(found)]).toEqual([[4, 1], [0, 0, 0, 0]]);
  });

  test('an ignore_index inside [0, C) stays the index that names no class, on the samples that had it', async () => {
    // A kernel wrong only where a sample is ignored (PyTorch 73205's kind).
    const ignoredSample = async (c: HuntCase) => targetsOf(c).includes(c.fields.ignoreIndex as number);
    const { found } = await shrinkCase(crossEntropyCase([3, 7, 42, 7], 7), ignoredSample);
    expect([found.x.shape, targetsOf(found), found.fields.ignoreIndex]).toEqual([[1, 1], [7], 7]);
  });
});
