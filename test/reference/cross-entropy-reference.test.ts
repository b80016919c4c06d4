import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { CrossEntropySpec, Reduction } from '../../src/ops/cross_entropy/cross-entropy-spec.js';
import { parseInputDocument } from '../../src/input/input-document.js';
import { crossEntropySpec } from '../../src/ops/cross_entropy/cross-entropy-fields-out.js';
import { inputFromDocument } from '../../src/input/resolve-input.js';
import { computeCrossEntropyReference } from '../../src/ops/cross_entropy/cross-entropy-reference.js';
import { isLeftUndecided } from '../../src/reference/reference-by-slices.js';
import { PYTORCH_FIXTURES } from '../helpers/fixtures.js';
import { PROPERTY_OPTIONS, propertyTimeout } from '../helpers/properties.js';
import { type ReferenceResult } from '../../src/reference/reference-result.js';

/** mpmath's correctly rounded cross_entropy values (scripts/mpmath/generate-cross-entropy-fixtures.py). */
const MPMATH = join(PYTORCH_FIXTURES, '..', 'mpmath');
const names = readdirSync(MPMATH).filter((name) => name.startsWith('cross-entropy-')).sort();
const sameBits = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, k) => Object.is(v, b[k]) || (v !== v && b[k] !== b[k]));

describe('the cross_entropy reference', () => {
  test('has mpmath cases: every reduction, smoothing, ignore_index, weights, soft targets, a near-perfect prediction', () => {
    expect(names.length).toBeGreaterThanOrEqual(8);
  });

  test.each(names.flatMap((name) => [[name, 'double-double'], [name, 'bignumber']] as const))(
    "reproduces mpmath's correctly rounded values for %s with %s, bit for bit",
    async (name, engine) => {
      const input = inputFromDocument(name, parseInputDocument(readFileSync(join(MPMATH, name), 'utf8')));
      const reference = (await computeCrossEntropyReference(input.x, input.g, crossEntropySpec(input.spec), input.axis, engine)) as ReferenceResult;
      expect(sameBits(reference.forward, input.expected!.forward!), 'loss').toBe(true);
      expect(sameBits(reference.grad, input.expected!.grad!), 'grad').toBe(true);
    },
    60_000,
  );

  /** Small random cross_entropy inputs: 1 to 3 samples of 2 to 5 classes, any reduction, index or soft targets. */
  const randomCase = fc
    .record({
      samples: fc.integer({ min: 1, max: 3 }),
      classes: fc.integer({ min: 2, max: 5 }),
      reduction: fc.constantFrom<Reduction>('mean', 'sum', 'none'),
      soft: fc.boolean(),
      smoothing: fc.constantFrom(0, 0.1, 0.25),
      weighted: fc.boolean(),
      seed: fc.integer(),
    })
    .chain(({ samples, classes, ...rest }) =>
      fc.record({
        // Logits on a grid of 2^-10, mostly within ±10, sometimes ±40 (near-certain predictions, whose
        // tiny losses double-double leaves to BigNumber).
        x: fc.array(
          fc.oneof(
            { weight: 16, arbitrary: fc.integer({ min: -10 * 2 ** 10, max: 10 * 2 ** 10 }).map((k) => k / 2 ** 10) },
            { weight: 4, arbitrary: fc.integer({ min: -40 * 2 ** 10, max: 40 * 2 ** 10 }).map((k) => k / 2 ** 10) },
            // torch.finfo(float64).min, a Hugging Face mask (a term of the loss under smoothing or
            // soft targets: a loss near 1e308, which BigNumber takes).
            { weight: 1, arbitrary: fc.constant(-1.7976931348623157e308) },
          ),
          { minLength: samples * classes, maxLength: samples * classes },
        ),
        targets: fc.array(fc.integer({ min: -1, max: classes - 1 }), { minLength: samples, maxLength: samples }),
        p: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: samples * classes, maxLength: samples * classes }),
        // Weights 0 and negative too (PyTorch takes them): a mean's divisor may be 0 or negative.
        w: fc.array(fc.integer({ min: -2, max: 8 }).map((k) => k / 4), { minLength: classes, maxLength: classes }),
        g: fc.array(fc.integer({ min: -8, max: 8 }).map((k) => k / 4 + 0.125), { minLength: samples, maxLength: samples }),
        samples: fc.constant(samples),
        classes: fc.constant(classes),
        ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, fc.constant(v)])),
      }),
    );

  test('double-double is certain only where it equals BigNumber bit for bit', async () => {
    let decided = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(randomCase, async (c) => {
        const { samples, classes, reduction, soft, smoothing, weighted } = c as unknown as {
          samples: number;
          classes: number;
          reduction: Reduction;
          soft: boolean;
          smoothing: number;
          weighted: boolean;
        };
        const probabilities = Float64Array.from(c.p, (v, k) => {
          const row = Math.floor(k / classes) * classes;
          const total = c.p.slice(row, row + classes).reduce((a, b) => a + b, 0);
          return total === 0 ? 1 / classes : v / total;
        });
        const spec: CrossEntropySpec = {
      op: 'cross_entropy',
          target: soft ? { shape: [samples, classes], data: probabilities } : { shape: [samples], data: Float64Array.from(c.targets, (t) => (t < 0 ? -100 : t)) },
          targetKind: soft ? 'probability' : 'index',
          reduction,
          labelSmoothing: smoothing,
          ignoreIndex: -100,
          weight: weighted ? Float64Array.from(c.w) : undefined,
        };
        const x = { shape: [samples, classes], data: Float64Array.from(c.x) };
        const g = reduction === 'none' ? { shape: [samples], data: Float64Array.from(c.g) } : { shape: [], data: Float64Array.of(c.g[0]) };
        const dd = await computeCrossEntropyReference(x, g, spec, 1, 'double-double', { elementLimit: 0 });
        runs++;
        if (isLeftUndecided(dd)) return true;
        decided++;
        const big = (await computeCrossEntropyReference(x, g, spec, 1, 'bignumber')) as ReferenceResult;
        return sameBits(dd.forward, big.forward) && sameBits(dd.grad, big.grad);
      }),
      { ...PROPERTY_OPTIONS, numRuns: Math.ceil(PROPERTY_OPTIONS.numRuns / 2) },
    );
    // Double-double decides most inputs: the property is not vacuous.
    expect(decided).toBeGreaterThan(runs * 0.6);
  }, propertyTimeout(40));
});
