import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
// The built modules (test/global-setup.ts rebuilds a stale build first): from src, vitest cannot
// start the .ts worker that runCheck's explicit Jacobians start, and the one-thread run
// is taken from the same build.
import { runCheck, type CheckRun } from '../../dist/check/run-check.js';
import { closeJacobianWorkers } from '../../dist/parallel/parallel-jacobian.js';
import { ROOT } from '../helpers/run-cli.js';

const GENUINE = join(ROOT, 'fixtures', 'genuine');
const PYTORCH = join(ROOT, 'fixtures', 'pytorch');
const json = (dir: string): string[] => readdirSync(dir).filter((name) => name.endsWith('.json')).sort().map((name) => join(dir, name));

afterAll(async () => {
  await closeJacobianWorkers();
});

/**
 * The outcomes without their timings, which may differ, and with the arithmetic's rounding
 * functions by name (each run makes its own closures): everything else must be equal.
 */
const timeless = (run: CheckRun): unknown => run.outcomes.map(({ seconds: _, ...outcome }) => withoutFunctions(outcome));

function withoutFunctions(value: unknown): unknown {
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map(withoutFunctions);
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withoutFunctions(inner)]));
}

/**
 * Expects the two runs' outcomes to be equal as toEqual holds them, numbers as Object.is does
 * (NaN equal to NaN, 0 not to -0). They are compared as one text first, every number spelt
 * exactly: toEqual walks a typed array key by key, seconds for the reports of the large fixtures.
 * Only when the texts differ does toEqual run, to show where.
 */
function expectSameOutcomes(parallel: CheckRun, one: CheckRun): void {
  const number = (v: number): string => (Object.is(v, -0) ? '#-0' : `#${v}`);
  const text = (run: CheckRun): string =>
    JSON.stringify(timeless(run), (_, value: unknown) => {
      if (typeof value === 'number') return number(value);
      if (typeof value === 'bigint') return `#${value}n`;
      // A typed array by its bytes, every NaN made one NaN: equal bytes are elements equal by Object.is.
      if (value instanceof Float64Array || value instanceof Float32Array) {
        const copy = value.map((v) => (Number.isNaN(v) ? NaN : v));
        return { [value.constructor.name]: Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength).toString('base64') };
      }
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return { [value.constructor.name]: Array.from(value as Int32Array, number) };
      return value;
    });
  const same = text(parallel) === text(one);
  if (!same) expect(timeless(parallel)).toEqual(timeless(one));
  expect(same, 'the same outcomes, as text').toBe(true);
}

describe('check with the explicit Jacobians on worker threads', () => {
  test('gives the one-thread outcomes, reports and all, on the genuine PyTorch fixtures (a 2 × 32,000 float32 one on threads)', async () => {
    await closeJacobianWorkers();
    const files = json(GENUINE);
    const seen: string[] = [];
    const parallel = await runCheck(files, { onOutcome: (outcome) => seen.push(outcome.name) });
    // The 2 × 32,000 fixture (2e9 entries) is worth threads; they are kept for the next run.
    expect(await closeJacobianWorkers()).toBeGreaterThan(0);
    const one = await runCheck(files, { parallel: false });
    expectSameOutcomes(parallel, one);
    expect(parallel.counts).toEqual({ passed: files.length, failed: 0, errored: 0 });
    expect(seen).toEqual(one.outcomes.map((outcome) => outcome.name));
  }, 120_000);

  test('gives the one-thread outcomes in arithmetics the kernel leaves to JavaScript (compute bfloat16)', async () => {
    const files = [...json(GENUINE).filter((path) => path.includes('bf16-4x512')), ...json(PYTORCH).slice(0, 6)];
    const options = { arithmetic: { compute: 'bfloat16' as const } };
    const parallel = await runCheck(files, options);
    const one = await runCheck(files, { ...options, parallel: false });
    expectSameOutcomes(parallel, one);
  }, 120_000);

  test('stops at the first fixture that does not pass with bail, as on one thread', async () => {
    const files = [join(PYTORCH, 'seed.json'), join(ROOT, 'no-such-fixture.json'), join(PYTORCH, 'seed.json')];
    const parallel = await runCheck(files, { bail: true });
    expect(parallel.outcomes.map((outcome) => outcome.status)).toEqual(['pass', 'error']);
    expect(parallel.notRun).toBe(1);
  });
});
