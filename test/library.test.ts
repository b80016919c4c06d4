import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { check, InputError, OverBudgetError, readInput, RequestError, toJson, verify } from '../src/index.js';
import { loadFixture } from './helpers/fixtures.js';
import { PROPERTY_OPTIONS, PROPERTY_RUNS, propertyTimeout } from './helpers/properties.js';
import { runs } from './helpers/slow-tests.js';

const X = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const G = [11, 12, 13, 14, 15, 16, 17, 18, 19];

describe('the library API', () => {
  test("verify passes the seed with PyTorch's values, and fails a gradient 5 % high", async () => {
    const seed = loadFixture('seed.json');
    const right = await verify({ x: X, g: G, expected: { softmax: seed.expected!.forward!, grad: seed.expected!.grad! } });
    expect(right.passed).toBe(true);
    const wrong = await verify({ x: X, g: G, expected: { grad: Array.from(seed.expected!.grad!, (v) => v * 1.05) } });
    expect(wrong.passed).toBe(false);
    expect(wrong.comparisons.find((c) => c.actual === 'expected' && c.quantity === 'grad')?.closeness.mismatched).toBe(9);
  });

  test('takes nested arrays, typed arrays, and flat data with a shape alike', async () => {
    const nested = await verify({ x: [[1, 2], [3, 5]], g: [[1, 0], [0, 1]], dim: 0 });
    const shaped = await verify({ x: { shape: [2, 2], data: Float64Array.of(1, 2, 3, 5) }, g: { shape: [2, 2], data: [1, 0, 0, 1] }, dim: 0 });
    expect(Array.from(shaped.results.closedForm.grad)).toEqual(Array.from(nested.results.closedForm.grad));
    expect(shaped.input.axis).toBe(0);
    const typed = await verify({ x: Float32Array.of(1, 2, 3), g: [1, 0, 0], dtype: 'float32' });
    expect([typed.input.x.shape, typed.arithmetic.dtype, typed.passed]).toEqual([[3], 'float32', true]);
  });

  test('toJson gives the document --format json writes', async () => {
    const report = await verify({ x: X, g: G }, { reference: 'off' });
    const doc = JSON.parse(toJson(report));
    expect(doc.format).toBe('softmax-verify.report/v2');
    expect(doc.input.x).toEqual(X);
    expect(doc.referenceSkipped).toBeNull();
  });

  test('a report is plain data, for every op: no function anywhere in it', async () => {
    const requests = [
      { x: [[1, 2, 3]], g: [[1, 0, 0]], expected: { grad: [[0.1, 0, 0]] } },
      { op: 'cross_entropy' as const, x: [[1, 2, 3]], target: [2], expected: { loss: 9 } },
      { op: 'masked_softmax' as const, x: [[1, 2, 3]], g: [[1, 0, 0]], mask: [[true, false, true]], expected: { softmax: [[0.5, 0, 0.5]] } },
    ];
    for (const request of requests) {
      const report = await verify(request);
      const functions: string[] = [];
      const seen = new Set<unknown>();
      const walk = (value: unknown, path: string): void => {
        if (typeof value === 'function') functions.push(path);
        else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !seen.has(value)) {
          seen.add(value);
          for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`);
        }
      };
      walk(report, 'report');
      expect([report.passed, functions]).toEqual([false, []]);
    }
  });

  test('readInput reads a dump as --input does, and verify takes it as it is', async () => {
    const right = await readInput('test/data/dumps/torch-bf16.safetensors');
    expect([right.dtype, right.source]).toEqual(['bfloat16', 'PyTorch 1.13.0a0 (Debian python3-torch): torch.softmax(x, dim=-1) then .backward(g), bfloat16, CPU']);
    expect((await verify(right)).passed).toBe(true);
    expect((await verify(await readInput('test/data/dumps/torch-f32-savez-forgot.npz'))).passed).toBe(false);
    // The path as given to readInput, not the command line's --input.
    await expect(readInput('test/data/dumps/missing.npz')).rejects.toThrow(/^cannot read test\/data\/dumps\/missing\.npz: no such file$/);
  });

  test('work over budget: refused as data when asked for, left out and said in the report and its JSON otherwise', async () => {
    const x = Float64Array.from({ length: 20_001 }, (_, i) => Math.sin(i));
    const refused = await verify({ x, g: x }, { reference: 'bignumber' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OverBudgetError);
    expect((refused as OverBudgetError).budget).toEqual({ kind: 'bignumber-reference', entries: 20_001, limit: 20_000, seconds: 20_001 * 0.2e-3 });
    expect((refused as Error).message).toContain('add allowSlow: true to run it anyway');
    const report = await verify({ x: { shape: [1, 80_000], data: new Float64Array(80_000) }, g: [new Array<number>(80_000).fill(1)] }, { reference: 'off' });
    expect(report.methods).toEqual(['closedForm', 'accurate']);
    expect(report.jacobianSkipped).toEqual({ kind: 'jacobian', entries: 6.4e9, limit: 5e9, seconds: 6.4e9 * 0.15e-9 });
    expect(JSON.parse(toJson(report)).jacobianSkipped).toEqual({ kind: 'jacobian', entries: 6.4e9, limit: 5e9, seconds: 6.4e9 * 0.15e-9 });
  });

  test('check runs fixture files as the command does', async () => {
    const run = await check(['fixtures/pytorch']);
    expect(run.counts).toEqual({ passed: run.outcomes.length, failed: 0, errored: 0 });
    expect(run.outcomes.map((o) => o.name)).toContain('seed');
    await expect(check(['no/such/folder'])).rejects.toThrow('cannot read no/such/folder: no such file or folder');
  });

  test('check takes one path as well as a list, and toJson writes its reports', async () => {
    const seen: string[] = [];
    const one = await check('fixtures/pytorch/seed.json', { onOutcome: (outcome) => seen.push(outcome.name) });
    expect([one.counts, seen]).toEqual([{ passed: 1, failed: 0, errored: 0 }, ['seed']]);
    const outcome = one.outcomes[0];
    expect(outcome.status === 'pass' && JSON.parse(toJson(outcome.report)).input.name).toBe('seed');
  });

  test("check's refusals of a fixture speak in the request's fields, not in flags", async () => {
    const run = await check('fixtures/pytorch/float32-64.json', { arithmetic: { compute: 'float16' } });
    const outcome = run.outcomes[0];
    expect(outcome.status === 'error' && outcome.message).toBe(
      'request.arithmetic.compute float16 is narrower than the dtype float32: a kernel computes and sums at least as wide as the values it reads',
    );
  });

  test.each<[string, Parameters<typeof verify>[0], string]>([
    ['a shape that does not hold the data', { x: { shape: [2, 2], data: [1, 2, 3] }, g: [1, 2, 3] }, 'x has 3 values, but its shape [2, 2] holds 4'],
    ['a shape of zero', { x: { shape: [0], data: [] }, g: [1] }, 'x.shape must be a list of 1 to 64 whole numbers above 0, got [0]'],
    ['a value that is not a number', { x: [1, Number.NaN, 'a' as unknown as number], g: [1, 2, 3] }, 'x[2] is not a number: "a"'],
    ['expected of another shape', { x: [1, 2], g: [1, 0], expected: { grad: [1] } }, 'expected.grad has shape [1], but x has shape [2]'],
    ['g of another shape', { x: [1, 2], g: [1, 0, 0] }, 'g has shape [3], but x has shape [2]: they must match'],
    ['an unknown dtype', { x: [1, 2], g: [1, 0], dtype: 'bf16' as 'bfloat16' }, 'dtype must be one of float64, float32, float16, bfloat16, got "bf16"'],
  ])('refuses %s with an InputError naming the field', async (_, request, message) => {
    const refusal = verify(request);
    await expect(refusal).rejects.toThrow(InputError);
    await expect(refusal).rejects.toThrow(message);
  });
});

// Every argument of every function, options included, is checked as the JSON documents are: a bad
// one rejects with an InputError naming it, never a TypeError, and none is accepted silently.
describe('the library API refuses bad arguments by name', () => {
  const ok = { x: [1, 2], g: [1, 0] };
  const throwing = Object.defineProperty({ g: [1, 0] }, 'x', { enumerable: true, get: () => { throw new TypeError('boom'); } });
  const throwingElement = Object.defineProperty([1, 0], 1, { get: () => { throw new Error('nope'); } });
  const cycle: unknown[] = [1];
  cycle.push(cycle);

  test.each<[string, () => Promise<unknown>, string]>([
    ['a null request', () => verify(null as never), 'the request must be an object with x (and g), got null'],
    ['an array as the request', () => verify([1, 2] as never), 'the request must be an object with x (and g), got [1,2]'],
    ['no x', () => verify({ g: [1] } as never), 'x is missing: give the logits as x (for example x: [1, 2, 3]) or as the field "x" of the file readInput reads'],
    ['expected grad values without g', () => verify({ x: [1, 2], expected: { grad: [0, 0] } }), 'expected grad values need g, the upstream gradient they were computed from: give it as g (for example g: [1, 0, 0]) or as the field "g" of the file readInput reads'],
    ['an unknown field', () => verify({ ...ok, rtol: -5 } as never), 'the request has an unknown field "rtol" (known: op, x, g, target, reduction, labelSmoothing, ignoreIndex, weight, mask, causal, scale, maskedRows, dim, dtype, expected, tolerance, arithmetic, source, name, description)'],
    ['BigInts', () => verify({ x: [1n, 2n], g: [1, 0] } as never), 'x[0] is not a number: 1n'],
    ['a BigInt64Array', () => verify({ x: BigInt64Array.of(1n, 2n), g: [1, 0] } as never), 'x[0] is not a number: 1n'],
    ['an array-like claiming 3·10^8 elements it has not', () => verify({ x: { length: 3e8 } as never, g: [1, 0] }), 'x[0] is not a number: undefined'],
    ['a getter that throws', () => verify(throwing as never), 'x cannot be read: reading it throws "TypeError: boom"'],
    ['an element whose getter throws', () => verify({ x: [1, 2], g: throwingElement }), 'g cannot be read: reading it throws "Error: nope"'],
    ['a cyclic array', () => verify({ x: cycle as never, g: [1, 0] }), 'x[1] is an array where a number was expected (ragged nesting)'],
    ['a string for x', () => verify({ x: '1,2' as never, g: [1, 0] }), 'x must be an array of numbers, got "1,2"'],
    ['a shape without data', () => verify({ x: { shape: [2] } as never, g: [1, 0] }), 'x.data must be an array or a typed array of numbers, got undefined'],
    ['a shape of rank 65', () => verify({ x: { shape: new Array(65).fill(1), data: [1] }, g: [1] }), 'x.shape must be a list of 1 to 64 whole numbers above 0'],
    ['a shaped value that is not a number', () => verify({ x: { shape: [2], data: [1, 'a' as never] }, g: [1, 0] }), 'x.data[1] is not a number: "a"'],
    ['an unknown field beside shape and data', () => verify({ x: { shape: [2], data: [1, 2], stride: [1] } as never, g: [1, 0] }), 'x has an unknown field "stride" (known: shape, data)'],
    ['tolerance: null', () => verify({ ...ok, tolerance: null as never }), 'tolerance must be an object { rtol, atol }, got null'],
    ['a tolerance without atol', () => verify({ ...ok, tolerance: { rtol: 1e-3 } as never }), 'tolerance.atol is missing: give both rtol and atol'],
    ['an unknown field of expected', () => verify({ ...ok, expected: { dx: [1, 2] } as never }), 'expected has an unknown field "dx" (known: softmax, log_softmax, loss, grad)'],
    ['expected: null', () => verify({ ...ok, expected: null as never }), 'expected must be an object with softmax and/or grad, got null'],
    ['a dim of 1.5', () => verify({ ...ok, dim: 1.5 }), 'dim must be an integer, got 1.5'],
    ['a dim as text', () => verify({ ...ok, dim: '0' as never }), 'dim must be an integer, got "0"'],
    ['a name that is not text', () => verify({ ...ok, name: 5 as never }), 'name must be a string, got 5'],
    ['an unknown op', () => verify({ ...ok, op: 'softmin' as never }), 'op must be one of softmax, log_softmax, cross_entropy, masked_softmax, got "softmin"'],
    ['ignoreIndex: 1.5', () => verify({ op: 'cross_entropy', x: [[1, 2]], target: [0], ignoreIndex: 1.5 }), 'ignoreIndex must be an integer, got 1.5'],
    ['an unknown reduction', () => verify({ op: 'cross_entropy', x: [[1, 2]], target: [0], reduction: 'avg' as never }), 'reduction must be one of mean, sum, none, got "avg"'],
    ['a cross_entropy without target', () => verify({ op: 'cross_entropy', x: [[1, 2]] }), 'target is missing: op cross_entropy needs class indices'],
    ['options: null', () => verify(ok, null as never), 'options must be an object with tolerance, arithmetic, reference, accurate, finiteDifferences, allowSlow, parallel, got null'],
    ['an unknown option', () => verify(ok, { allowslow: true } as never), 'options has an unknown field "allowslow" (known: tolerance, arithmetic, reference, accurate, finiteDifferences, allowSlow, parallel)'],
    ["reference: 'bogus'", () => verify(ok, { reference: 'bogus' as never }), 'options.reference must be one of auto, double-double, bignumber, off, got "bogus"'],
    ['an rtol of -5', () => verify(ok, { tolerance: { rtol: -5, atol: 0 } }), 'options.tolerance.rtol must be a finite number ≥ 0, got -5'],
    ["compute: 'int8'", () => verify(ok, { arithmetic: { compute: 'int8' as never } }), 'options.arithmetic.compute must be one of float64, float32, float16, bfloat16, got "int8"'],
    ['an arithmetic narrower than the dtype', () => verify(ok, { arithmetic: { accumulate: 'float32' } }), 'options.arithmetic.accumulate float32 is narrower than the dtype float64: a kernel computes and sums at least as wide as the values it reads'],
    ['accurate: "yes"', () => verify(ok, { accurate: 'yes' as never }), 'options.accurate must be true or false, got "yes"'],
    ['finite differences of log_softmax', () => verify({ ...ok, op: 'log_softmax' }, { finiteDifferences: true }), 'options.finiteDifferences checks softmax only in this version, not log_softmax'],
    ['toJson({})', async () => toJson({} as never), 'report must be a report that verify or check returned, got {}'],
    ['toJson(null)', async () => toJson(null as never), 'report must be a report that verify or check returned, got null'],
    ['check([])', () => check([]), 'paths is empty: give a fixture file, a folder or a glob pattern'],
    ['check(5)', () => check(5 as never), 'paths must be a path or a list of paths, got 5'],
    ['check([""])', () => check(['fixtures', '']), 'paths[1] must be a path (a non-empty string), got ""'],
    ['an unknown check field', () => check('fixtures/pytorch', { rtol: 1 } as never), 'request has an unknown field "rtol" (known: tolerance, arithmetic, bail, allowSlow, parallel, onOutcome)'],
    ['an onOutcome that is not a function', () => check('fixtures/pytorch', { onOutcome: 'log' as never }), 'request.onOutcome must be a function, got "log"'],
    ['check with compute int8', () => check('fixtures/pytorch', { arithmetic: { compute: 'int8' as never } }), 'request.arithmetic.compute must be one of float64, float32, float16, bfloat16, got "int8"'],
    ['readInput(null)', () => readInput(null as never), 'path must be a path (a non-empty string), got null'],
    ['a dim given as text to readInput', () => readInput('fixtures/pytorch/seed.json', { dim: '0' as never }), 'settings.dim must be an integer, got "0"'],
    ['an unknown readInput setting', () => readInput('fixtures/pytorch/seed.json', { tolerance: 1 } as never), 'settings has an unknown field "tolerance" (known: op, dim, dtype, reduction, labelSmoothing, ignoreIndex, causal, scale, maskedRows)'],
    ['an op the file contradicts', () => readInput('fixtures/family/cross-entropy-f64-single-sample-mean.json', { op: 'softmax' }), "op: 'softmax', but the input is op cross_entropy: leave op out, or give an input of op softmax"],
    ['a setting the file has', () => readInput('fixtures/family/cross-entropy-f64-single-sample-mean.json', { reduction: 'sum' }), 'has its reduction already: give it there or with reduction, not both'],
  ])('%s', async (_, call, message) => {
    const refusal = call();
    await expect(refusal).rejects.toThrow(InputError);
    await expect(refusal).rejects.toThrow(message);
  });
});

describe('the library API, properties', () => {
  // Anything JavaScript can hand over: BigInts, typed arrays, sparse arrays, boxed values, objects
  // without a prototype, and keys such as __proto__.
  const anything = fc.anything({ withBigInt: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true, withNullPrototype: true, withObjectString: true, maxDepth: 3 });
  // Mostly plausible values, so that many calls reach the run; anything in any field, and now and then a field of no name known.
  const field = (plausible: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: plausible, weight: 12 }, { arbitrary: anything, weight: 1 });
  const withStray = <T extends object>(record: fc.Arbitrary<T>) =>
    fc.tuple(record, fc.oneof({ arbitrary: fc.constant(null), weight: 12 }, { arbitrary: fc.tuple(fc.string(), anything), weight: 1 })).map(([fields, stray]) =>
      stray === null ? fields : { ...fields, [stray[0]]: stray[1] },
    );
  // x, g and the expected values of one length n, as arrays, typed arrays or { shape, data }.
  const request = fc.integer({ min: 1, max: 4 }).chain((n) => {
    const numbers = fc.array(fc.oneof(fc.double(), fc.integer({ min: -3, max: 3 })), { minLength: n, maxLength: n });
    const values = fc.oneof(numbers, numbers.map((data) => ({ shape: [n], data })), numbers.map((data) => Float32Array.from(data)));
    return withStray(
      fc.record(
        {
          op: field(fc.constantFrom('softmax', 'log_softmax')),
          x: field(values),
          g: field(values),
          dim: field(fc.integer({ min: -2, max: 1 })),
          dtype: field(fc.constantFrom('float64', 'float32', 'float16', 'bfloat16')),
          expected: field(fc.record({ grad: values }, { requiredKeys: [] })),
          tolerance: field(fc.record({ rtol: fc.double({ min: 0, max: 1 }), atol: fc.double({ min: 0, max: 1 }) })),
          name: field(fc.string()),
        },
        { requiredKeys: ['x', 'g'] },
      ),
    );
  });
  const options = withStray(
    fc.record(
      {
        reference: field(fc.constant('off')),
        arithmetic: field(fc.record({ compute: fc.constantFrom('float64', 'float32', 'int8') }, { requiredKeys: [] })),
        accurate: field(fc.boolean()),
        parallel: field(fc.constant(false)),
      },
      { requiredKeys: ['reference'] },
    ),
  );

  test('verify answers anything with a report or an InputError, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ arbitrary: request, weight: 4 }, { arbitrary: anything, weight: 1 }), options, async (req, opts) => {
        try {
          const report = await verify(req as never, opts as never);
          return typeof toJson(report) === 'string';
        } catch (error) {
          if (error instanceof InputError) return !error.message.includes('\n') && error.message.length < 500;
          throw error;
        }
      }),
      { ...PROPERTY_OPTIONS, numRuns: Math.max(runs(50), Math.round(PROPERTY_RUNS / 2)) },
    );
  }, propertyTimeout(20));
});

describe('the library API, cross_entropy', () => {
  test('verifies a loss and its gradient given as numbers and nested arrays, and fails a mean not divided', async () => {
    // F.cross_entropy(x, target) for x = [[0, 0], [0, 0]], target = [0, 1]: loss log 2, dx = (s − onehot)/2.
    const request = { op: 'cross_entropy' as const, x: [[0, 0], [0, 0]], target: [0, 1], expected: { loss: 0.6931471805599453, grad: [[-0.25, 0.25], [0.25, -0.25]] } };
    const report = await verify(request);
    expect([report.passed, report.input.spec?.op === 'cross_entropy' && report.input.spec.reduction, report.results.closedForm.forward.length]).toEqual([true, 'mean', 1]);
    const undivided = await verify({ ...request, expected: { grad: [[-0.5, 0.5], [0.5, -0.5]] } });
    expect(undivided.passed).toBe(false);
    const doc = JSON.parse(toJson(report));
    expect([doc.input.op, doc.input.g, doc.input.target, doc.input.expected.loss, doc.results.closedForm.loss]).toEqual(['cross_entropy', 1, [0, 1], 0.6931471805599453, 0.6931471805599453]);
  });

  test('rejects cross_entropy fields on another op, and a target out of range', async () => {
    await expect(verify({ x: [1, 2], g: [1, 0], target: 1 })).rejects.toThrow('target is for op cross_entropy');
    // The problem as data too, for a caller to act on: which field, of which op.
    const refusal = await verify({ x: [1, 2], g: [1, 0], target: 1 }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RequestError);
    expect((refusal as RequestError).problem).toEqual({ code: 'field-of-other-op', field: 'target', op: 'cross_entropy' });
    // Through readInput too, whose messages name the file.
    const contradicted = await readInput('fixtures/family/cross-entropy-f64-single-sample-mean.json', { op: 'softmax' }).catch((error: unknown) => error);
    expect((contradicted as RequestError).problem).toEqual({ code: 'op-contradicts-input', field: 'op', op: 'softmax', inputOp: 'cross_entropy' });
    const missing = await verify({ op: 'cross_entropy', x: [[1, 2]] }).catch((error: unknown) => error);
    expect([(missing as RequestError).problem.code, (missing as RequestError).problem.field]).toEqual(['required-field-missing', 'target']);
    await expect(verify({ op: 'cross_entropy', x: [[1, 2]], target: [2] })).rejects.toThrow('target[0] is 2, not a class: x has 2 classes (0 to 1), and ignore_index is -100');
  });

  test('readInput reads a cross_entropy fixture into a request verify takes as it is', async () => {
    const request = await readInput('fixtures/family/cross-entropy-f64-single-sample-mean.json');
    expect([request.op, request.target, typeof request.g, request.reduction]).toEqual(['cross_entropy', 8, 'number', 'mean']);
    expect((await verify(request)).passed).toBe(true);
  });
});
