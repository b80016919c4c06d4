import { describe, expect, test } from 'vitest';
import { documentFromArrays } from '../../src/input/array-dump.js';
import { inputFromDocument } from '../../src/input/resolve-input.js';
import type { Tensor } from '../../src/tensor.js';
import { judge } from '../../src/core/judge.js';

const tensor = (values: number[], stored: Tensor['stored'] = 'float64'): Tensor => ({ shape: [values.length], data: Float64Array.from(values), stored });

describe('a dump of named arrays', () => {
  test('holding log_softmax is of op log_softmax, its values the expected forward output', () => {
    // PyTorch's F.log_softmax of x = [0, 0] (−ln 2 each) and its gradient for g = [1, 0].
    const arrays = new Map([
      ['x', tensor([0, 0])],
      ['g', tensor([1, 0])],
      ['log_softmax', tensor([-0.6931471805599453, -0.6931471805599453])],
      ['grad', tensor([0.5, -0.5])],
    ]);
    const doc = documentFromArrays({ arrays, itemKind: 'member' });
    expect(doc.op).toBe('log_softmax');
    const input = inputFromDocument('dump.npz', doc);
    expect(judge(input).passed).toBe(true);
    // The same values as softmax's would fail: they are not probabilities.
    expect(judge({ ...input, op: 'softmax' }).passed).toBe(false);
  });

  test('of the op its metadata names ("op"), over what its arrays suggest; an op it does not know is refused', () => {
    const arrays = new Map([
      ['x', tensor([0, 0])],
      ['g', tensor([1, 0])],
    ]);
    expect(documentFromArrays({ arrays, itemKind: 'tensor', metadata: { op: 'log_softmax' } }).op).toBe('log_softmax');
    expect(documentFromArrays({ arrays, itemKind: 'tensor', metadata: { scale: '0.5' } }).op).toBe('masked_softmax');
    expect(() => documentFromArrays({ arrays, itemKind: 'tensor', metadata: { op: 'sigmoid' } })).toThrow('metadata "op" must be one of softmax, log_softmax, cross_entropy, masked_softmax, got "sigmoid"');
  });

  test("refuses an array of another op than the dump's rather than drop it", () => {
    const withMask = new Map([...[['x', tensor([1, 2, 3])], ['target', tensor([2])]] as const, ['mask', tensor([1, 0, 1])]]);
    expect(() => documentFromArrays({ arrays: withMask, itemKind: 'member' })).toThrow('member "mask" is masked_softmax\'s, but the dump is op cross_entropy');
    const namedSoftmax = new Map([
      ['x', tensor([0, 0])],
      ['softmax', tensor([0.5, 0.5])],
    ]);
    expect(() => documentFromArrays({ arrays: namedSoftmax, itemKind: 'tensor', metadata: { op: 'log_softmax' } })).toThrow(
      'tensor "softmax" is not an output of op log_softmax: its forward output is "log_softmax"',
    );
  });

  test('holding softmax is of op softmax; both at once is refused', () => {
    const arrays = new Map([
      ['x', tensor([0, 0])],
      ['g', tensor([1, 0])],
      ['softmax', tensor([0.5, 0.5])],
    ]);
    expect(documentFromArrays({ arrays, itemKind: 'member' }).op).toBeUndefined();
    arrays.set('log_softmax', tensor([-0.6931471805599453, -0.6931471805599453]));
    expect(() => documentFromArrays({ arrays, itemKind: 'member' })).toThrow('a dump holds one op\'s values: its members "softmax" and "log_softmax" belong to different ops');
  });

  test("refuses another op's setting in its metadata rather than dropping it, and keeps what no op reads", () => {
    const arrays = new Map([
      ['x', tensor([0, 0])],
      ['g', tensor([1, 0])],
      ['softmax', tensor([0.5, 0.5])],
    ]);
    expect(() => documentFromArrays({ arrays, itemKind: 'tensor', metadata: { reduction: 'sum' } })).toThrow('metadata "reduction" is cross_entropy\'s: the dump needs its tensor "target" too');
    // torch's save_file writes {"format": "pt"}: metadata no op reads is left alone.
    expect(documentFromArrays({ arrays, itemKind: 'tensor', metadata: { format: 'pt', source: 'kernel' } }).source).toBe('kernel');
  });
});
