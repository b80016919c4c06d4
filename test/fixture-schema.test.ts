import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, test } from 'vitest';
import { parseLenientJson } from '../src/input/lenient-json.js';
import { editedFixture } from './helpers/fixture-edits.js';
import { fixtureText, pytorchFixtureNames } from './helpers/fixtures.js';
import { ROOT } from './helpers/run-cli.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'fixture-v1.schema.json'), 'utf8'));
const validate = new Ajv2020({ allErrors: true }).compile(schema);

/** Reads a fixture as softmax-verify does (bare NaN/Infinity become strings), then validates it. */
function valid(text: string): boolean {
  const parsed = parseLenientJson(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return validate(parsed.value) as boolean;
}

describe('the fixture v1 JSON Schema', () => {
  test.each(pytorchFixtureNames())('accepts %s', (name) => {
    expect(valid(fixtureText(name)), JSON.stringify(validate.errors)).toBe(true);
  });

  const familyAndMpmath = ['family', 'mpmath'].flatMap((dir) =>
    readdirSync(join(ROOT, 'fixtures', dir))
      .filter((name) => name.endsWith('.json'))
      .map((name) => join(dir, name)),
  );
  test.each(familyAndMpmath)('accepts %s', (name) => {
    expect(valid(readFileSync(join(ROOT, 'fixtures', name), 'utf8')), JSON.stringify(validate.errors)).toBe(true);
  });

  test("refuses a log_softmax fixture with softmax's expected values, and a softmax one with log_softmax's", () => {
    const logSoftmax = readFileSync(join(ROOT, 'fixtures', 'family', 'log-softmax-seed.json'), 'utf8');
    expect(valid(logSoftmax.replace('"log_softmax": [', '"softmax": ['))).toBe(false);
    expect(valid(logSoftmax.replace('"op": "log_softmax", ', ''))).toBe(false);
    expect(valid(logSoftmax.replace('"op": "log_softmax"', '"op": "logsoftmax"'))).toBe(false);
  });

  test('accepts a fixture with a tolerance and only expected.grad', () => {
    const text = editedFixture('seed.json', (doc) => {
      delete doc.expected.softmax;
      doc.tolerance = { rtol: 1e-3, atol: 0 };
    });
    expect(valid(text)).toBe(true);
  });

  test('accepts a forward-only fixture (no g, no expected.grad), and only that without g', () => {
    expect(valid(editedFixture('seed.json', (doc) => {
      delete doc.g;
      delete doc.expected.grad;
    }))).toBe(true);
    expect(valid(editedFixture('seed.json', (doc) => delete doc.g))).toBe(false);
    // cross_entropy's g is the loss's, 1 when left out: its gradient needs none.
    const crossEntropy = readFileSync(join(ROOT, 'fixtures', 'family', 'cross-entropy-f64-8x10-mean.json'), 'utf8');
    expect(valid(crossEntropy.replace(/"g": [^,]*, /, ''))).toBe(true);
  });

  test.each<[string, (doc: Record<string, any>) => void]>([
    ['a wrong format', (doc) => (doc.format = 'softmax-verify.fixture/v2')],
    ['a missing source', (doc) => delete doc.source],
    ['an unknown dtype', (doc) => (doc.dtype = 'int8')],
    ['a fractional dim', (doc) => (doc.dim = 0.5)],
    ['an unknown field', (doc) => (doc.tolerence = {})],
    ['an empty expected', (doc) => (doc.expected = {})],
    ['a non-number in x', (doc) => (doc.x[1] = 'abc')],
    ['an empty x', (doc) => (doc.x = [])],
    ['a negative rtol', (doc) => (doc.tolerance = { rtol: -1, atol: 0 })],
  ])('rejects %s', (_, edit) => {
    expect(valid(editedFixture('seed.json', edit))).toBe(false);
  });
});
