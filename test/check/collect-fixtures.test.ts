import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { collectFixturePaths, type FixtureFile } from '../../src/check/collect-fixtures.js';
import { systemCalls } from '../../src/io/system-calls.js';
import { ROOT } from '../helpers/run-cli.js';
import { propertyTimeout } from '../helpers/properties.js';
import { folderWith } from '../helpers/temp-dir.js';

/** Folders whose listing fails as a folder without read permission does (root reads them all the same). */
const unreadable = new Set<string>();
const realReaddirSync = systemCalls.readdirSync;
const lockedReaddirSync = ((path: string, options: never) => {
  if (unreadable.has(String(path))) throw Object.assign(new Error(`EACCES: permission denied, scandir '${path}'`), { code: 'EACCES' });
  return realReaddirSync(path, options);
}) as typeof systemCalls.readdirSync;

const root = folderWith({
  'b.json': '{}',
  'a.json': '{}',
  'notes.txt': '',
  'deep/er/c.json': '{}',
  'node_modules/pkg/package.json': '{}',
  '.hidden/d.json': '{}',
});

const paths = (files: readonly FixtureFile[]): string[] => files.map((file) => file.path);
const refusals = (files: readonly FixtureFile[]): [string, string][] => files.filter((f) => f.refused !== undefined).map((f) => [f.path, f.refused!]);

describe('collectFixturePaths', () => {
  test('searches a folder recursively for *.json, sorted, skipping node_modules and hidden folders', async () => {
    expect(paths(await collectFixturePaths([root], ROOT))).toEqual([join(root, 'a.json'), join(root, 'b.json'), join(root, 'deep/er/c.json')]);
  });

  test('takes a named file as it is, whatever its extension', async () => {
    expect(paths(await collectFixturePaths([join(root, 'notes.txt')], ROOT))).toEqual([join(root, 'notes.txt')]);
  });

  test('expands a glob pattern', async () => {
    expect(paths(await collectFixturePaths([join(root, '*.json')], ROOT))).toEqual([join(root, 'a.json'), join(root, 'b.json')]);
    expect(paths(await collectFixturePaths([join(root, '**/c.json')], ROOT))).toEqual([join(root, 'deep/er/c.json')]);
  });

  test('reads relative paths and patterns from the working directory given, and names the files as given', async () => {
    expect(paths(await collectFixturePaths(['deep', 'a.json'], root))).toEqual(['a.json', join('deep', 'er', 'c.json')]);
    expect(paths(await collectFixturePaths(['*.json'], root))).toEqual(['a.json', 'b.json']);
    await expect(collectFixturePaths(['a.json'], join(root, 'deep'))).rejects.toThrow('cannot read a.json: no such file or folder');
  });

  test('lists a file named twice once, however it is spelt', async () => {
    expect(await collectFixturePaths([join(root, 'a.json'), root, join(root, 'deep/../a.json')], ROOT)).toHaveLength(3);
  });

  test.each([
    [['missing.json'], 'cannot read missing.json: no such file or folder'],
    [['no-such-*.json'], 'no fixture matches "no-such-*.json"'],
  ])('refuses a path that matches nothing: %j', async (paths, message) => {
    await expect(collectFixturePaths(paths, ROOT)).rejects.toThrow(message);
  });

  test('refuses a folder with no fixture in it', async () => {
    const empty = folderWith({ 'readme.md': '' });
    await expect(collectFixturePaths([empty], ROOT)).rejects.toThrow(`no *.json fixture under ${empty}`);
  });
});

describe('collectFixturePaths in a folder it cannot trust', () => {
  test('two links back up (dir/up -> ..) list each real file once and are refused as loops, not followed', async () => {
    const dir = folderWith({ 'seed.json': '{}', 'dir/x.json': '{}', 'dir2/y.json': '{}' });
    symlinkSync('..', join(dir, 'dir', 'up'));
    symlinkSync('..', join(dir, 'dir2', 'up'));
    const files = await collectFixturePaths(['.'], dir);
    expect(paths(files)).toEqual(['dir/up', 'dir/x.json', 'dir2/up', 'dir2/y.json', 'seed.json']);
    expect(refusals(files)).toEqual([
      ['dir/up', 'a symbolic link back to a folder above it, a loop: not followed'],
      ['dir2/up', 'a symbolic link back to a folder above it, a loop: not followed'],
    ]);
  });

  test('a link to a folder inside is followed once, and a file reached both ways is named by its real place', async () => {
    const dir = folderWith({ 'real/a.json': '{}', 'real/deeper/b.json': '{}' });
    symlinkSync('real', join(dir, 'alias'));
    symlinkSync(join('real', 'a.json'), join(dir, 'also-a.json'));
    symlinkSync('.', join(dir, 'real', 'self'));
    const files = await collectFixturePaths([dir], ROOT);
    expect(files.filter((f) => f.refused === undefined)).toEqual([
      { path: join(dir, 'real/a.json'), real: join(dir, 'real/a.json') },
      { path: join(dir, 'real/deeper/b.json'), real: join(dir, 'real/deeper/b.json') },
    ]);
    expect(refusals(files)).toEqual([[join(dir, 'real/self'), 'a symbolic link back to a folder above it, a loop: not followed']]);
  });

  test('a link that leads out of the folder given is refused and never read: to a file, to a folder, through a chain', async () => {
    const outside = folderWith({ 'secret.json': '{"x": "SECRET"}', 'more/leak.json': '{}' });
    const dir = folderWith({ 'ok.json': '{}' });
    symlinkSync(join(outside, 'secret.json'), join(dir, 'shadow.json'));
    symlinkSync('/proc/self/environ', join(dir, 'environ.json'));
    symlinkSync(join(outside, 'more'), join(dir, 'more'));
    symlinkSync('shadow.json', join(dir, 'chain.json'));
    // Not *.json and not a folder: not a fixture, not looked at.
    symlinkSync('/etc/passwd', join(dir, 'passwd'));
    const files = await collectFixturePaths(['.'], dir);
    const outsideWhy = 'a symbolic link that leads outside ., the folder given: not followed';
    expect(paths(files)).toEqual(['chain.json', 'environ.json', 'more', 'ok.json', 'shadow.json']);
    expect(refusals(files)).toEqual([
      ['chain.json', outsideWhy],
      ['environ.json', outsideWhy],
      ['more', outsideWhy],
      ['shadow.json', outsideWhy],
    ]);
  });

  test('only regular files are read from a folder: a FIFO, a socket or a device named *.json is refused, a link to nothing too', async () => {
    const dir = folderWith({ 'ok.json': '{}' });
    expect(spawnSync('mkfifo', [join(dir, 'fifo.json')]).status).toBe(0);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, 'socket.json'), resolve));
    symlinkSync('missing.json', join(dir, 'dangling.json'));
    // As root (as in CI containers) a device node can be made; it is refused like the rest.
    const device = spawnSync('mknod', [join(dir, 'null.json'), 'c', '1', '3']).status === 0;
    try {
      const files = await collectFixturePaths([dir], ROOT);
      expect(refusals(files)).toEqual([
        [join(dir, 'dangling.json'), 'a symbolic link that cannot be followed: what it names does not exist'],
        [join(dir, 'fifo.json'), 'it is a pipe (FIFO), not a fixture file: only regular files are read from a folder'],
        ...(device ? [[join(dir, 'null.json'), 'it is a character device, not a fixture file: only regular files are read from a folder'] as [string, string]] : []),
        [join(dir, 'socket.json'), 'it is a socket, not a fixture file: only regular files are read from a folder'],
      ]);
      expect(files.filter((f) => f.refused === undefined).map((f) => f.path)).toEqual([join(dir, 'ok.json')]);
      if (device) expect(statSync(join(dir, 'null.json')).isCharacterDevice()).toBe(true);
    } finally {
      server.close();
    }
  });

  test('a pipe or a device named on purpose: the pipe is read, the device refused', async () => {
    const dir = folderWith({});
    expect(spawnSync('mkfifo', [join(dir, 'fifo')]).status).toBe(0);
    expect(await collectFixturePaths(['fifo', '/dev/zero'], dir)).toEqual([
      { path: '/dev/zero', refused: 'it is a character device, not a fixture file' },
      { path: 'fifo', real: join(dir, 'fifo') },
    ]);
  });

  test('a folder that cannot be read is refused, and the others are still searched', async () => {
    const dir = folderWith({ 'a.json': '{}', 'locked/b.json': '{}', 'open/c.json': '{}' });
    unreadable.add(join(dir, 'locked'));
    systemCalls.readdirSync = lockedReaddirSync;
    try {
      const files = await collectFixturePaths(['.'], dir);
      expect(paths(files)).toEqual(['a.json', 'locked', join('open', 'c.json')]);
      expect(refusals(files)).toEqual([['locked', 'cannot read this folder: permission denied']]);
      // The folder given itself: one refusal, so the run has something to report.
      unreadable.add(dir);
      expect(await collectFixturePaths(['.'], dir)).toEqual([{ path: '.', refused: 'cannot read this folder: permission denied' }]);
    } finally {
      systemCalls.readdirSync = realReaddirSync;
      unreadable.clear();
    }
  });

  test('a glob pattern matches only regular files inside its own folder, and follows no link', async () => {
    const outside = folderWith({ 'secret.json': '{}' });
    const dir = folderWith({ 'kernels/a.json': '{}', 'kernels/sub/b.json': '{}' });
    symlinkSync(join(outside, 'secret.json'), join(dir, 'kernels', 'secret.json'));
    symlinkSync(join(dir, 'kernels', 'a.json'), join(dir, 'kernels', 'again.json'));
    symlinkSync('..', join(dir, 'kernels', 'sub', 'up'));
    symlinkSync('..', join(dir, 'kernels', 'up2'));
    // A link to a folder outside (to `/` in a review: every .json on the machine an ERROR line).
    symlinkSync(outside, join(dir, 'kernels', 'elsewhere'));
    expect(spawnSync('mkfifo', [join(dir, 'kernels', 'fifo.json')]).status).toBe(0);
    const files = await collectFixturePaths(['kernels/**/*.json'], dir);
    expect(files).toEqual([
      { path: 'kernels/a.json', real: join(dir, 'kernels/a.json') },
      { path: 'kernels/sub/b.json', real: join(dir, 'kernels/sub/b.json') },
    ]);
    // Named as a folder, the same links are followed within it, and the one out refused.
    const walked = await collectFixturePaths(['kernels'], dir);
    expect(refusals(walked).map(([path]) => path)).toEqual(expect.arrayContaining(['kernels/secret.json', 'kernels/elsewhere']));
  });

  test("the kernel's own file systems hold no fixtures and are not walked (check / leaves out /proc and /sys)", async () => {
    await expect(collectFixturePaths(['/proc'], ROOT)).rejects.toThrow('no *.json fixture under /proc');
    const dir = folderWith({});
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'x.json'), '{}');
    expect(paths(await collectFixturePaths([dir], ROOT))).toEqual([join(dir, 'a', 'x.json')]);
  });
});

describe('collectFixturePaths on random hostile folders', () => {
  test('ends, lists each real file once, every one a regular file inside the folder, and refuses only what it must', async () => {
    const { default: fc } = await import('fast-check');
    const { lstatSync, realpathSync, rmSync } = await import('node:fs');
    const { relative, isAbsolute } = await import('node:path');
    const { buildTree, treeSteps } = await import('../helpers/random-tree.js');
    const { PROPERTY_OPTIONS } = await import('../helpers/properties.js');
    await fc.assert(
      fc.asyncProperty(treeSteps('{}'), async (steps) => {
        const dir = folderWith({ 'seed.json': '{}' });
        try {
          buildTree(dir, steps);
          const files = await collectFixturePaths(['.'], dir);
          const rootReal = realpathSync(dir);
          const found = files.filter((f) => f.refused === undefined);
          expect(new Set(found.map((f) => f.real)).size).toBe(found.length);
          expect(new Set(files.map((f) => f.path)).size).toBe(files.length);
          for (const file of found) {
            const rest = relative(rootReal, file.real!);
            expect(rest.startsWith('..') || isAbsolute(rest), file.path).toBe(false);
            expect(statSync(file.real!).isFile(), file.path).toBe(true);
            expect(realpathSync(join(dir, file.path))).toBe(file.real);
          }
          // Refused: links (out, round, to nothing), and *.json entries that are not regular files.
          for (const file of files.filter((f) => f.refused !== undefined)) {
            const entry = lstatSync(join(dir, file.path));
            expect(entry.isSymbolicLink() || !entry.isFile(), `${file.path}: ${file.refused}`).toBe(true);
          }
          expect(found.map((f) => f.path)).toContain('seed.json');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      // A fifth of the usual runs: each builds a folder on disk (a FIFO is a process spawned).
      { ...PROPERTY_OPTIONS, numRuns: Math.ceil(PROPERTY_OPTIONS.numRuns / 5) },
    );
  }, propertyTimeout(20));
});
