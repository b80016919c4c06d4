import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { judge } from '../../src/core/judge.js';
import { DTYPES, type DType } from '../../src/dtype.js';
import { DEFAULT_COMPUTE } from '../../src/numeric/arithmetic.js';
import { roundToDType } from '../../src/numeric/round-dtype.js';
import { f64 } from '../helpers/fixtures.js';
import { assertNoMismatch, runLogSoftmaxDesign, type LogSoftmaxDesign } from '../helpers/kernel-designs.js';
import { PROPERTY_OPTIONS, propertyTimeout } from '../helpers/properties.js';

/** A random slice in the dtype: logits of a random spread, some masked, and an upstream gradient with a mean away from 0 now and then. */
function randomCase(dtype: DType) {
  const value = (limit: number) => fc.double({ min: -limit, max: limit, noNaN: true, noDefaultInfinity: true });
  return fc
    .record({ n: fc.integer({ min: 1, max: 120 }), scale: fc.constantFrom(0.5, 3, 10, 30), offset: fc.constantFrom(0, 0, 100), masked: fc.double({ min: 0, max: 0.15, noNaN: true }), mean: fc.constantFrom(0, 1) })
    .chain(({ n, scale, offset, masked, mean }) =>
      fc.tuple(
        fc.array(fc.tuple(value(1), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: n, maxLength: n }),
        fc.array(value(2), { minLength: n, maxLength: n }),
        fc.constant({ scale, offset, masked, mean }),
      ),
    )
    .map(([logits, gradients, { scale, offset, masked, mean }]) => ({
      x: logits.map(([v, p], j) => (p < masked && j > 0 ? -Infinity : roundToDType(offset + v * scale * 3, dtype))),
      g: gradients.map((v) => roundToDType(v + mean, dtype)),
    }));
}

const designs = (dtype: DType): fc.Arbitrary<LogSoftmaxDesign> =>
  fc.record({
    dtype: fc.constant(dtype),
    compute: fc.constantFrom(DEFAULT_COMPUTE[dtype], dtype),
    accumulate: fc.constantFrom<DType>(...(dtype === 'float64' ? (['float64'] as const) : (['float64', 'float32', dtype] as const))),
    forward: fc.constantFrom('shift-then-log', 'lse'),
    storedSum: fc.boolean(),
    backward: fc.constantFrom('closed-form', 'jacobian'),
    storedY: fc.boolean(),
    order: fc.constantFrom('forward', 'reverse', 'pairwise', 'lanes'),
    exp: fc.constantFrom('nearest', 'one-ulp-off'),
  });

describe.each(DTYPES)("log_softmax's verdict in %s", (dtype) => {
  test('accepts the results of every correct kernel design, told its compute and accumulation types', () => {
    fc.assert(
      fc.property(randomCase(dtype), designs(dtype), ({ x, g }, design) => {
        const kernel = runLogSoftmaxDesign(design, x, g);
        const shape = [x.length];
        const report = judge(
          { label: 'design', op: 'log_softmax', x: { shape, data: f64(x) }, g: { shape, data: f64(g) }, dim: -1, axis: 0, dtype, expected: { forward: f64(kernel.logSoftmax), grad: f64(kernel.grad) } },
          { arithmetic: { compute: design.compute, accumulate: design.accumulate } },
        );
        assertNoMismatch(report);
        expect(report.invariants.expected!.flaggedSlices).toBe(0);
        expect(report.passed).toBe(true);
      }),
      PROPERTY_OPTIONS,
    );
  }, propertyTimeout(20));
});
