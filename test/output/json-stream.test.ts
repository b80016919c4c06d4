import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { builtInExample } from '../../src/example.js';
import { CHUNK_CHARS, formatNumbers, jsonChunks, JsonTensor, RawJson, tensorNumbers, writeJson } from '../../src/output/json-text.js';
import { writeChunks } from '../../src/output/json-stream.js';
import { renderJson, reportDocument, streamJson, type Tool } from '../../src/output/render-json.js';
import { loadBigNumberReference } from '../../src/reference/bignumber-reference.js';
import { computeReference } from '../../src/ops/softmax/softmax-reference.js';
import { normaliseDim, toNested } from '../../src/tensor.js';
import { judge } from '../../src/core/judge.js';
import { f64, loadFixture } from '../helpers/fixtures.js';
import { JACOBIAN_LEFT_OUT } from '../helpers/left-out.js';
import { type Report, type VerifyInput, type VerifyOptions } from '../../src/core/report.js';
import { runs } from '../helpers/slow-tests.js';

const TOOL: Tool = { name: 'softmax-verify', version: '9.9.9' };

// ---- The writer as it was before the streaming one: the oracle for byte-identical output. ----

function legacyWrite(value: unknown, indent = ''): string {
  const writeNumber = (v: number) => (Object.is(v, -0) ? '-0.0' : JSON.stringify(v));
  if (typeof value === 'number') return writeNumber(value);
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item !== 'object' || item === null || item instanceof RawJson)) {
      return `[${value.map((item) => legacyWrite(item, indent)).join(',')}]`;
    }
    const inner = `${indent}  `;
    return `[\n${value.map((item) => inner + legacyWrite(item, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const inner = `${indent}  `;
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => `${inner}${JSON.stringify(key)}: ${legacyWrite(item, inner)}`);
    return entries.length === 0 ? '{}' : `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function legacyJsonNumber(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (value !== value) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/** The document with every JsonTensor replaced by the nested arrays the old renderer built. */
function withNestedArrays(value: unknown): unknown {
  if (value instanceof JsonTensor) return toNested(value.data, value.shape, legacyJsonNumber);
  if (Array.isArray(value)) return value.map(withNestedArrays);
  if (typeof value === 'object' && value !== null && !(value instanceof RawJson)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withNestedArrays(item)]));
  }
  return value;
}

const legacyRenderJson = (report: Report) => `${legacyWrite(withNestedArrays(reportDocument(report, TOOL)))}\n`;

// ---- Sinks ----

/** Collects what is written, and every write's size. */
function memorySink() {
  const chunks: string[] = [];
  return { chunks, write: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

async function streamed(report: Report) {
  const sink = memorySink();
  await streamJson(report, TOOL, sink);
  return sink;
}

function tensorInput(shape: number[], x: number[], g: number[], dim: number, extra: Partial<VerifyInput> = {}): VerifyInput {
  return { op: 'softmax', label: 'stream test', x: { shape, data: f64(x) }, g: { shape, data: f64(g) }, dim, axis: normaliseDim(dim, shape.length)!, dtype: 'float64', ...extra };
}

async function withReference(input: VerifyInput, options: VerifyOptions = {}): Promise<Report> {
  const reference = await computeReference(input.x, input.g, input.axis, 'double-double', loadBigNumberReference);
  return judge(input, { ...options, reference });
}

const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, -1e-310, Number.MAX_VALUE, -Number.MIN_VALUE, 1e21, 1e-7, 0.1, 1 / 3];

describe('the streamed JSON report is the report renderJson wrote before, byte for byte', () => {
  const cases: [string, () => Promise<Report>][] = [
    ['the built-in example', async () => withReference(builtInExample())],
    ['the built-in example with --accurate and --fd', async () => withReference(builtInExample(), { accurate: true, finiteDifferences: true })],
    [
      'an N-D input with NaN, ±Infinity, -0 and subnormals, --accurate and --fd',
      async () => {
        const x = [1, -0, NaN, 5e-324, Infinity, 2, -Infinity, 3, 2.2250738585072014e-308, 0, -1e-310, 7, 0.1, -0.2, 1e300, -1e-300, 4, 4, -0, 0];
        const g = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 0, -0, 5e-324, -5e-324, 1e-310, 2, 3, -4, 0.5, -0.25];
        return judge(tensorInput([2, 2, 5], x, g, 1), { accurate: true, finiteDifferences: true });
      },
    ],
    [
      'a 3-D input along dim 0, with the reference',
      async () =>
        withReference(
          tensorInput(
            [3, 2, 2],
            Array.from({ length: 12 }, (_, i) => Math.sin(i) * 5),
            Array.from({ length: 12 }, (_, i) => Math.cos(i)),
            0,
          ),
        ),
    ],
    [
      'a fixture with expected values (tensor-2x3x4-dim1)',
      async () => {
        const doc = loadFixture('tensor-2x3x4-dim1.json');
        const dim = doc.dim ?? -1;
        const input: VerifyInput = {
          op: 'softmax', label: 'tensor-2x3x4-dim1.json',
          source: doc.source,
          x: doc.x!,
          g: doc.g!,
          dim,
          axis: normaliseDim(dim, doc.x!.shape.length)!,
          dtype: doc.dtype ?? 'float64',
          expected: doc.expected,
          tolerance: doc.tolerance,
        };
        return withReference(input, { accurate: true, finiteDifferences: true });
      },
    ],
    [
      'failing expected values (failures listed)',
      async () =>
        judge(tensorInput([2, 2], [1, 2, 3, 4], [1, 0, 0, 1], -1, { expected: { forward: f64([0.2, 0.8, 0.2, 0.7]), grad: f64([0.1, 0.1, 0, 0]) } }), {
          accurate: true,
          finiteDifferences: true,
        }),
    ],
    ['a skipped Jacobian', async () => judge(tensorInput([4], [1, 2, 3, 4], [1, 0, 0, 0], -1), { jacobianSkipped: { kind: 'jacobian', entries: 16, limit: 0, seconds: 1e-9 }, referenceSkipped: { kind: 'auto-reference', entries: 4, limit: 0, seconds: 1e-6 } })],
  ];

  test.each(cases)('%s', async (_, make) => {
    const report = await make();
    const before = legacyRenderJson(report);
    expect(renderJson(report, TOOL)).toBe(before);
    expect((await streamed(report)).text()).toBe(before);
  });
});

describe('jsonChunks', () => {
  test('writes a tensor of any shape as the nested arrays toNested built, at any depth', () => {
    const shapes = [[], [0], [1], [5], [2, 0], [0, 3], [2, 0, 3], [2, 3], [1, 1, 1], [3, 1, 2], [2, 2, 2, 2]];
    for (const shape of shapes) {
      const size = shape.reduce((a, b) => a * b, 1);
      const data = Float64Array.from({ length: shape.length === 0 ? 1 : size }, (_, i) => SPECIAL[i % SPECIAL.length]);
      const nested = toNested(data, shape, legacyJsonNumber);
      const tensor = new JsonTensor(data, shape);
      expect(writeJson(tensor)).toBe(legacyWrite(nested));
      expect(writeJson({ a: { b: tensor, c: [tensor, 1] } })).toBe(legacyWrite({ a: { b: nested, c: [nested, 1] } }));
    }
  });

  test('writes any JSON value as the old writer did, its strings made printable', () => {
    // The structure is ASCII, with C0 only in its line breaks: escaping the rest of what acts in the
    // whole old text escapes just what its strings held.
    const printable = (text: string) => text.replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(writeJson(value)).toBe(printable(legacyWrite(value)));
      }),
      { numRuns: runs(300) },
    );
    const odd = { a: undefined, b: [], c: {}, d: [null, 'x"y', true, new RawJson('1.0')], e: [[], [1]], f: '\u2028\n', g: [{}] };
    expect(writeJson(odd)).toBe(printable(legacyWrite(odd)));
  });

  test('spells every double as the report did: shortest round trip, -0.0, non-finite as strings', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double(), fc.constantFrom(...SPECIAL)), { maxLength: 50 }), (values) => {
        expect(`[${formatNumbers(values, 0, values.length)}]`).toBe(legacyWrite(values.map(legacyJsonNumber)));
      }),
      { numRuns: runs(500) },
    );
    expect(formatNumbers(f64([1, 2, 3]), 1, 1)).toBe('');
    expect(formatNumbers(f64([1, -0, NaN, 4]), 1, 3)).toBe('-0.0,"NaN"');
  });

  test('keeps its pieces bounded, on long rows and on many short ones', () => {
    for (const shape of [[300_000], [75_000, 4], [20, 30, 500]]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const data = Float64Array.from({ length: size }, (_, i) => Math.sin(i) * 10 ** ((i % 40) - 20));
      const pieces = [...jsonChunks({ tensor: new JsonTensor(data, shape) })];
      expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(CHUNK_CHARS + 4096 * 25);
      // Short rows are gathered, not written one piece each.
      expect(pieces.length).toBeLessThan(size / 1000);
    }
  });
});

describe('streamJson on a large report', () => {
  // 400 slices of 500: 2×10^5 elements, with every kind of special value somewhere.
  const rows = 400;
  const cols = 500;
  const n = rows * cols;
  const x = Array.from({ length: n }, (_, i) => (i % 997 === 0 ? SPECIAL[(i / 997) % SPECIAL.length] : Math.sin(i * 0.7) * 10 ** ((i % 9) - 4)));
  const g = Array.from({ length: n }, (_, i) => (i % 1009 === 0 ? SPECIAL[(i / 1009) % SPECIAL.length] : Math.cos(i * 1.3) * 10 ** ((i % 7) - 3)));
  let report: Report;
  let sink: ReturnType<typeof memorySink>;

  test('writes pieces of at most 1 MB', async () => {
    report = judge(tensorInput([rows, cols], x, g, -1), { accurate: true });
    sink = await streamed(report);
    expect(sink.chunks.length).toBeGreaterThan(50);
    expect(Math.max(...sink.chunks.map((c) => c.length))).toBeLessThan(1 << 20);
  });

  test('parses back with JSON.parse to the same float64s, bit for bit', () => {
    const doc = JSON.parse(sink.text());
    const decode = (v: unknown) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);
    const check = (nested: unknown, data: Float64Array) => {
      const flat = (nested as unknown[][]).flat().map(decode);
      expect(flat).toHaveLength(data.length);
      const differing = flat.filter((v, i) => !Object.is(v, data[i]));
      expect(differing).toEqual([]);
    };
    check(doc.input.x, report.input.x.data);
    check(doc.input.g, report.input.g.data);
    for (const method of report.methods) {
      const result = report.results[method]!;
      check(doc.results[method].softmax, result.forward);
      check(doc.results[method].grad, result.grad);
    }
    check(doc.differences.softmax, report.differences.forward);
    check(doc.differences.grad, report.differences.grad);
    expect(Object.is(decode(doc.input.x[0][0]), NaN)).toBe(true);
    expect(doc.input.x.flat().map(decode).some((v: number) => Object.is(v, -0))).toBe(true);
  });

  test('is the text renderJson gives', () => {
    expect(sink.text()).toBe(renderJson(report, TOOL));
  });
});

/** A stream whose buffer is full after every write until it drains, which it does a tick later. */
class SlowStream extends EventEmitter {
  readonly writes: string[] = [];
  needDrain = false;
  writesWhileFull = 0;
  write(text: string): boolean {
    if (this.needDrain) this.writesWhileFull++;
    this.writes.push(text);
    this.needDrain = true;
    setImmediate(() => {
      this.needDrain = false;
      this.emit('drain');
    });
    return false;
  }
}

describe('writeChunks', () => {
  const pieces = (count: number) => Array.from({ length: count }, (_, i) => `${'x'.repeat(CHUNK_CHARS / 4)}${i},`);

  test('waits for drain whenever write returns false, and writes everything in order', async () => {
    const sink = new SlowStream();
    await writeChunks(sink, pieces(40));
    expect(sink.writesWhileFull).toBe(0);
    expect(sink.writes.length).toBeGreaterThan(5);
    expect(sink.writes.join('')).toBe(pieces(40).join(''));
    expect(sink.listenerCount('drain') + sink.listenerCount('error') + sink.listenerCount('close')).toBe(0);
  });

  test('does not read ahead of the sink: the pieces are made as they are written', async () => {
    const sink = new SlowStream();
    let made = 0;
    function* lazy() {
      for (const piece of pieces(40)) {
        made++;
        // Never more than one write's worth made beyond what was written.
        expect(made * (CHUNK_CHARS / 4)).toBeLessThan(sink.writes.join('').length + 2 * CHUNK_CHARS);
        yield piece;
      }
    }
    await writeChunks(sink, lazy());
    expect(made).toBe(40);
  });

  test('rejects when the stream fails or closes while it waits', async () => {
    const failing = new SlowStream();
    failing.write = () => {
      setImmediate(() => failing.emit('error', new Error('EPIPE')));
      return false;
    };
    await expect(writeChunks(failing, pieces(10))).rejects.toThrow('EPIPE');
    const closing = new SlowStream();
    closing.write = () => {
      setImmediate(() => closing.emit('close'));
      return false;
    };
    await expect(writeChunks(closing, pieces(10))).rejects.toThrow('closed');
  });

  test('streams a report through a slow stream to the same text', async () => {
    const report = judge(tensorInput([50, 1000], Array.from({ length: 50_000 }, (_, i) => i % 13), Array.from({ length: 50_000 }, (_, i) => i % 7), -1), {
      jacobianSkipped: JACOBIAN_LEFT_OUT,
    });
    const sink = new SlowStream();
    await streamJson(report, TOOL, sink);
    expect(sink.writesWhileFull).toBe(0);
    expect(sink.writes.join('')).toBe(renderJson(report, TOOL));
  });
});

describe('a long report says how far its writing has come', () => {
  test("tells every tensor number once as it is written, and streamJson's progress reaches the total", async () => {
    const document = { a: new JsonTensor(new Float64Array(5000), [5000]), b: [new JsonTensor(new Float64Array(6), [2, 3]), 1, { c: new JsonTensor(new Float64Array(3), [3]) }] };
    expect(tensorNumbers(document)).toBe(5009);
    let told = 0;
    const text = [...jsonChunks(document, undefined, (numbers) => (told += numbers))].join('');
    expect(told).toBe(5009);
    expect(JSON.parse(text).a).toHaveLength(5000);

    const report = judge(tensorInput([2, 3], [1, 2, 3, 4, 5, 6], [1, 0, 0, 0, 1, 0], -1));
    const steps: { name: string; total: number; last: number; ended: boolean }[] = [];
    const progress = {
      step: (name: string, total: number) => {
        const step = { name, total, last: 0, ended: false };
        steps.push(step);
        return { advance: (done: number) => void (step.last = done), end: () => void (step.ended = true) };
      },
    };
    await streamJson(report, { name: 't', version: '0' }, { write: () => true }, progress);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ name: 'writing the JSON report', ended: true });
    expect(steps[0].last).toBe(steps[0].total);
  });
});

describe("JSON's strings", () => {
  test('escape what would act on a terminal (C1, bidirectional controls, line separators) and parse back to the same text', () => {
    const hostile = 'a\u202eb\u009b31mred\u2028\u2066c\u0085\n"\\';
    const text = writeJson({ [hostile]: [hostile], source: hostile });
    expect(text).toBe(
      '{\n  "a\\u202eb\\u009b31mred\\u2028\\u2066c\\u0085\\n\\"\\\\": ["a\\u202eb\\u009b31mred\\u2028\\u2066c\\u0085\\n\\"\\\\"],\n  "source": "a\\u202eb\\u009b31mred\\u2028\\u2066c\\u0085\\n\\"\\\\"\n}',
    );
    expect(JSON.parse(text)).toEqual({ [hostile]: [hostile], source: hostile });
  });
});
