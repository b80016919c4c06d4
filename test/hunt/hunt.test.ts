import { describe, expect, test } from 'vitest';
import { DTYPES } from '../../src/dtype.js';
import type { HuntCase } from '../../src/hunt/hunt-case.js';
import { renderHuntJson, renderHuntText } from '../../src/hunt/render-hunt.js';
import { PLAIN } from '../../src/output/render-text.js';
import { runHunt } from '../../src/hunt/run-hunt.js';
import { huntCases } from '../../src/hunt/tour.js';
import { runs, SLOW_TESTS } from '../helpers/slow-tests.js';
import { jsDesignKernel, jsSoftmaxKernel, type PlantedBug } from './hunt-kernels.js';

const elements = (c: HuntCase) => c.x.data.length;

describe('hunt, a JavaScript kernel in process', () => {
  // npm test: bfloat16, one planted bug, one other design; npm run test:slow, all of them.
  test.each(SLOW_TESTS ? DTYPES : (['bfloat16'] as const))('finds nothing wrong with a correct softmax kernel in %s', async (dtype) => {
    const run = await runHunt({ plan: { op: 'softmax', dtype, seed: 21 }, kernel: jsSoftmaxKernel('none'), cases: runs(200) });
    expect([run.cases, run.failed, run.findings]).toEqual([runs(200), 0, []]);
  }, 120_000);

  test.each(SLOW_TESTS ? (['online', 'exp2', 'lanes'] as const) : (['online'] as const))('finds nothing wrong with a correct float32 softmax written as %s', async (design) => {
    const run = await runHunt({ plan: { op: 'softmax', dtype: 'float32', seed: 31 }, kernel: jsDesignKernel(design), cases: runs(300) });
    expect([run.failed, run.findings.map((finding) => [finding.klass, finding.signature])]).toEqual([0, []]);
  }, 120_000);

  const planted = [
    ['forgot-inner', 'width 1', 'grad'],
    ['no-max-shift', 'large common offset', 'forward'],
    ['off-grid-lanes', 'width 1', 'forward'],
    ['float16-sum', 'width 1023', 'forward'],
  ] as const;
  test.each(SLOW_TESTS ? planted : planted.slice(0, 1))('finds a kernel with its %s bug, first in "%s", and shrinks it', async (bug: PlantedBug, klass, failing) => {
    const run = await runHunt({ plan: { op: 'softmax', dtype: bug === 'float16-sum' ? 'bfloat16' : 'float32', seed: 11 }, kernel: jsSoftmaxKernel(bug), cases: bug === 'forgot-inner' ? 5 : 45, shrinkCalls: 60 });
    const first = run.findings[0];
    expect([first.klass, first.kind, first.signature.includes(failing)]).toEqual([klass, 'fail', true]);
    expect(elements(first.shrunk)).toBeLessThan(elements(first.original));
    expect(first.report?.passed).toBe(false);
  }, 120_000);

  test("the off-grid lanes bug shrinks to a row past the last whole block of 32, keeping what exposes it", async () => {
    const run = await runHunt({ plan: { op: 'softmax', dtype: 'float32', seed: 11 }, kernel: jsSoftmaxKernel('off-grid-lanes'), cases: 20, shrinkCalls: 80 });
    const wide = run.findings.find((finding) => finding.klass === 'width 1023')!;
    expect(wide.shrunk.x.shape[1] % 32).not.toBe(0);
    expect(wide.shrunk.x.shape[1]).toBeLessThan(64);
  }, 120_000);

  test('tallies each input class: a padded-lane bug fails small off-grid rows and spares logits near exp overflow', async () => {
    const run = await runHunt({ plan: { op: 'softmax', dtype: 'float32', seed: 11 }, kernel: jsSoftmaxKernel('off-grid-lanes'), cases: 61, shrinkCalls: 10 });
    const tallies = Object.values(run.byClass);
    expect([tallies.reduce((n, t) => n + t.cases, 0), tallies.reduce((n, t) => n + t.failed, 0)]).toEqual([61, run.failed]);
    // The padded lane adds exp(0 − max) to the sum: all there is in a row of width 1, nothing beside exp(88).
    expect([run.byClass['width 1'], run.byClass['logits near exp overflow']]).toEqual([
      { cases: 1, failed: 1, declined: 0 },
      { cases: 3, failed: 0, declined: 0 },
    ]);
    const text = renderHuntText(run, new Map(), PLAIN);
    expect(text).toContain(`by input class: failures in ${tallies.filter((t) => t.failed > 0).length} of ${tallies.length} classes (${run.failed} of 61 cases); none in:\n`);
    // More classes failed than not: the report lists those it passed in.
    const [quiet, tally] = Object.entries(run.byClass).find(([, t]) => t.failed === 0)!;
    expect(text).toContain(`none in:\n  ${quiet} (${tally.cases} case`);
    const json = JSON.parse(renderHuntJson(run, new Map()));
    expect(json.byClass['width 1']).toEqual({ cases: 1, failed: 1, declined: 0, ways: [run.findings[0].signature] });
  }, 120_000);

  test('the same seed gives the same cases; another seed, others', () => {
    const take = (seed: number) => {
      const cases = huntCases({ op: 'cross_entropy', dtype: 'bfloat16', seed });
      return Array.from({ length: 35 }, () => cases.next().value as HuntCase);
    };
    const [a, b, c] = [take(5), take(5), take(6)];
    expect(a.map((hunted) => [hunted.klass, Array.from(hunted.x.data)])).toEqual(b.map((hunted) => [hunted.klass, Array.from(hunted.x.data)]));
    expect(a.map((hunted) => Array.from(hunted.x.data))).not.toEqual(c.map((hunted) => Array.from(hunted.x.data)));
  });

  test("the tour reaches the input classes of KERNEL-BUGS.md first: widths off the grid, the kinds of logits and g, other dims, the op's own", () => {
    const cases = huntCases({ op: 'cross_entropy', dtype: 'float32', seed: 1 });
    const classes = new Set(Array.from({ length: 90 }, () => (cases.next().value as HuntCase).klass));
    for (const klass of ['width 513', 'width 50257', 'large common offset', '-inf masks (whole rows)', 'g zero in the first slice', 'first target ignored', 'weight, label_smoothing and ignore_index at once']) {
      expect(classes.has(klass), klass).toBe(true);
    }
    // cross_entropy's classes are dim 1, as PyTorch's API has them; softmax's cases take every dim.
    expect(classes.has('dim 0 of a 3-D input')).toBe(false);
    const softmax = huntCases({ op: 'softmax', dtype: 'float32', seed: 1 });
    const softmaxClasses = new Set(Array.from({ length: 70 }, () => (softmax.next().value as HuntCase).klass));
    expect(softmaxClasses.has('dim 0 of a 3-D input')).toBe(true);
  });
});
