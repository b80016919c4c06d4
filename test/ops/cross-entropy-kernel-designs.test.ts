import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { judge } from '../../src/core/judge.js';
import { DTYPES, type DType } from '../../src/dtype.js';
import { DEFAULT_COMPUTE } from '../../src/numeric/arithmetic.js';
import { roundToDType } from '../../src/numeric/round-dtype.js';
import { f64 } from '../helpers/fixtures.js';
import { assertNoMismatch, runCrossEntropyDesign, type CrossEntropyCase, type CrossEntropyDesign } from '../helpers/kernel-designs.js';
import { PROPERTY_OPTIONS, propertyTimeout } from '../helpers/properties.js';

/** A random batch in the dtype: logits of a random spread, class targets (some ignored), weights or none, smoothing or none. */
function randomCase(dtype: DType): fc.Arbitrary<CrossEntropyCase> {
  const value = (limit: number) => fc.double({ min: -limit, max: limit, noNaN: true, noDefaultInfinity: true });
  return fc
    .record({ samples: fc.integer({ min: 1, max: 12 }), classes: fc.integer({ min: 2, max: 48 }), scale: fc.constantFrom(0.5, 3, 10) })
    .chain(({ samples, classes, scale }) =>
      fc.record({
        x: fc.array(fc.array(value(3), { minLength: classes, maxLength: classes }), { minLength: samples, maxLength: samples }),
        target: fc.array(fc.integer({ min: -1, max: classes - 1 }), { minLength: samples, maxLength: samples }),
        weight: fc.option(fc.array(fc.double({ min: 0.25, max: 2, noNaN: true }), { minLength: classes, maxLength: classes }), { nil: undefined }),
        labelSmoothing: fc.constantFrom(0, 0.1),
        reduction: fc.constantFrom<'mean' | 'sum'>('mean', 'sum'),
        g: fc.double({ min: 0.5, max: 2, noNaN: true }),
        scale: fc.constant(scale),
      }),
    )
    .map(({ x, target, weight, labelSmoothing, reduction, g, scale }) => ({
      x: x.map((row) => row.map((v) => roundToDType(v * scale * 3, dtype))),
      // -1 stands for an ignored sample (ignore_index -1), at least one counted so that a mean has a divisor.
      target: target.every((t) => t === -1) ? [0, ...target.slice(1)] : target,
      weight: weight?.map((w) => roundToDType(w, dtype)),
      labelSmoothing,
      reduction,
      ignoreIndex: -1,
      g: roundToDType(g, dtype),
    }));
}

const designs = (dtype: DType): fc.Arbitrary<CrossEntropyDesign> =>
  fc.record({
    logSoftmax: fc.record({
      dtype: fc.constant(dtype),
      compute: fc.constant(DEFAULT_COMPUTE[dtype]),
      accumulate: fc.constantFrom<DType>(...(dtype === 'float64' ? (['float64'] as const) : (['float64', 'float32'] as const))),
      forward: fc.constantFrom('shift-then-log', 'lse'),
      storedSum: fc.boolean(),
      backward: fc.constant('closed-form'),
      storedY: fc.boolean(),
      order: fc.constantFrom('forward', 'reverse', 'pairwise', 'lanes'),
      exp: fc.constant('nearest'),
    }),
    lossSum: fc.constantFrom('dtype', 'accumulate'),
  });

describe.each(DTYPES)("cross_entropy's verdict in %s", (dtype) => {
  test('accepts the results of every correct kernel design over class indices, told its accumulation type', () => {
    fc.assert(
      fc.property(randomCase(dtype), designs(dtype), (c, design) => {
        const kernel = runCrossEntropyDesign(design, c);
        const shape = [c.x.length, c.x[0].length];
        const report = judge(
          {
            label: 'design',
            op: 'cross_entropy',
            x: { shape, data: f64(c.x.flat()) },
            g: { shape: [], data: f64([c.g]) },
            dim: 1,
            axis: 1,
            dtype,
            spec: {
              op: 'cross_entropy',
              target: { shape: [c.target.length], data: f64(c.target) },
              targetKind: 'index',
              reduction: c.reduction,
              labelSmoothing: c.labelSmoothing,
              ignoreIndex: c.ignoreIndex,
              weight: c.weight === undefined ? undefined : f64(c.weight),
            },
            expected: { forward: f64([kernel.loss]), grad: f64(kernel.grad.flat()) },
          },
          { arithmetic: { accumulate: design.logSoftmax.accumulate } },
        );
        assertNoMismatch(report);
        expect(report.passed).toBe(true);
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(20));
});
