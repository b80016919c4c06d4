import { parseLenientJson } from '../../src/input/lenient-json.js';
import { fixtureText } from './fixtures.js';

/**
 * A PyTorch fixture's JSON, edited: for building good, tampered and broken suites in tests.
 * Read as softmax-verify reads it, so bare -Infinity tokens come through (as the string
 * "-Infinity", which softmax-verify reads back as the number).
 */
export function editedFixture(name: string, edit: (doc: Record<string, any>) => void): string {
  const parsed = parseLenientJson(fixtureText(name));
  if (!parsed.ok) throw new Error(`${name}: ${parsed.message}`);
  const doc = parsed.value as Record<string, any>;
  edit(doc);
  return JSON.stringify(doc);
}
