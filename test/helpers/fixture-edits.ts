import { fixtureText } from './fixtures.js';

/** A PyTorch fixture's JSON, edited: for building good, tampered and broken suites in tests. */
export function editedFixture(name: string, edit: (doc: Record<string, any>) => void): string {
  // The shared fixtures hold bare -Infinity tokens only in masked.json; plain JSON.parse is enough here.
  const doc = JSON.parse(fixtureText(name));
  edit(doc);
  return JSON.stringify(doc);
}
