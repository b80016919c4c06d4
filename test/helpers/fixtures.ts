import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInputDocument } from '../../src/input/input-document.js';

export const PYTORCH_FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'pytorch');

export function pytorchFixtureNames(): string[] {
  return readdirSync(PYTORCH_FIXTURES)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

export function fixtureText(name: string): string {
  return readFileSync(join(PYTORCH_FIXTURES, name), 'utf8');
}

export function loadFixture(name: string) {
  return parseInputDocument(fixtureText(name));
}

export const f64 = (values: readonly number[]): Float64Array => Float64Array.from(values);
