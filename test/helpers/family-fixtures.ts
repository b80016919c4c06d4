import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VerifyInput } from '../../src/core/report.js';
import { parseInputDocument } from '../../src/input/input-document.js';
import { inputFromDocument } from '../../src/input/resolve-input.js';

/** fixtures/family/: PyTorch's log_softmax, cross_entropy and masked_softmax fixtures. */
export const FAMILY = join(import.meta.dirname, '..', '..', 'fixtures', 'family');

/** The family fixtures whose names start with `prefix`, without .json, sorted. */
export function familyNames(prefix: string): string[] {
  return readdirSync(FAMILY)
    .filter((name) => name.startsWith(prefix) && name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

const inputs = new Map<string, VerifyInput>();

/** A family fixture by its name (without .json), read once a test file. */
export function familyFixture(name: string): VerifyInput {
  let input = inputs.get(name);
  if (input === undefined) {
    input = inputFromDocument(`${name}.json`, parseInputDocument(readFileSync(join(FAMILY, `${name}.json`), 'utf8')));
    inputs.set(name, input);
  }
  return input;
}
