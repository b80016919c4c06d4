import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCheck } from '../../src/check/run-check.js';
import { editedFixture } from '../helpers/fixture-edits.js';
import { fixtureText } from '../helpers/fixtures.js';
import { folderWith } from '../helpers/temp-dir.js';

const root = folderWith({
  '1-seed.json': fixtureText('seed.json'),
  '2-broken.json': '{"format"',
  '3-tampered.json': editedFixture('masked.json', (doc) => {
    doc.name = 'tampered-mask';
    doc.expected.softmax[0] = 0.2;
  }),
  '4-single.json': fixtureText('single.json'),
});
const files = ['1-seed.json', '2-broken.json', '3-tampered.json', '4-single.json'].map((f) => join(root, f));

describe('runCheck', () => {
  test('runs every fixture in order, and one broken file does not stop the others', async () => {
    const seen: string[] = [];
    const run = await runCheck(files, { onOutcome: (o) => seen.push(`${o.status} ${o.name}`) });
    expect(seen).toEqual(['pass seed', 'error 2-broken', 'fail tampered-mask', 'pass single']);
    expect(run.counts).toEqual({ passed: 2, failed: 1, errored: 1 });
    expect(run.notRun).toBe(0);
  });

  test('--bail stops at the first fixture that does not pass', async () => {
    const run = await runCheck(files, { bail: true });
    expect(run.outcomes.map((o) => o.status)).toEqual(['pass', 'error']);
    expect(run.notRun).toBe(2);
  });

  test('select runs only the chosen fixtures', async () => {
    const run = await runCheck(files, { select: (name) => name.includes('s') });
    expect(run.outcomes.map((o) => o.name)).toEqual(['seed', 'tampered-mask', 'single']);
  });

  test('an unreadable file is an error outcome', async () => {
    const run = await runCheck([join(root, 'missing.json')], {});
    expect(run.outcomes).toMatchObject([{ status: 'error', name: 'missing', message: 'cannot read the file: no such file' }]);
  });

  test('a device is never opened, and what the search refused is an error outcome in its place', async () => {
    const run = await runCheck(
      ['/dev/zero', { path: join(root, 'up'), refused: 'a symbolic link back to a folder above it, a loop: not followed' }, { path: files[0], real: files[0] }],
      { onOutcome: () => undefined },
    );
    expect(run.outcomes.map((o) => [o.status, o.name, o.status === 'error' ? o.message : ''])).toEqual([
      ['error', 'zero', 'cannot read the file: it is a character device, not a file (only regular files and pipes are read)'],
      ['error', 'up', 'a symbolic link back to a folder above it, a loop: not followed'],
      ['pass', 'seed', ''],
    ]);
    // --filter picks refusals by their file name, as it does unreadable fixtures.
    expect((await runCheck([{ path: join(root, 'up'), refused: 'a loop' }], { select: (name) => name === 'other' })).outcomes).toEqual([]);
  });
});
