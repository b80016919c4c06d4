import { describe, expect, test } from 'vitest';
import { arithmeticFor } from '../../src/numeric/arithmetic.js';
import { sliceLayout } from '../../src/numeric/slices.js';
import { lossLayer } from '../../src/ops/cross_entropy/cross-entropy.js';
import type { CrossEntropySpec } from '../../src/ops/cross_entropy/cross-entropy-spec.js';

describe("cross_entropy's loss layer", () => {
  const spec: CrossEntropySpec = {
      op: 'cross_entropy',
    target: { shape: [2], data: Float64Array.of(0, 2) },
    targetKind: 'index',
    reduction: 'mean',
    labelSmoothing: 0.1,
    ignoreIndex: -100,
  };
  const g = Float64Array.of(1);

  test('is formed once per input and arithmetic, whoever asks (methods, allowances, laws)', () => {
    const bf16 = arithmeticFor('bfloat16');
    const first = lossLayer(spec, g, sliceLayout([2, 3], 1), bf16);
    expect(lossLayer(spec, g, sliceLayout([2, 3], 1), arithmeticFor('bfloat16'))).toBe(first);
    // Another arithmetic, another g or another target: its own layer, with its own values.
    const float64 = lossLayer(spec, g, sliceLayout([2, 3], 1));
    expect(float64).not.toBe(first);
    expect(float64.h[0]).toBeCloseTo(-(0.9 + 0.1 / 3) / 2, 15);
    const doubled = lossLayer(spec, Float64Array.of(2), sliceLayout([2, 3], 1));
    expect(doubled.h[0]).toBe(2 * float64.h[0]);
    const other = lossLayer({ ...spec, reduction: 'sum' }, g, sliceLayout([2, 3], 1));
    expect(other.h[0]).toBe(2 * float64.h[0]);
  });
});
