import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { collectFixturePaths } from '../../src/check/collect-fixtures.js';
import { ROOT } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';

const root = folderWith({
  'b.json': '{}',
  'a.json': '{}',
  'notes.txt': '',
  'deep/er/c.json': '{}',
  'node_modules/pkg/package.json': '{}',
  '.hidden/d.json': '{}',
});

describe('collectFixturePaths', () => {
  test('searches a folder recursively for *.json, sorted, skipping node_modules and hidden folders', async () => {
    expect(await collectFixturePaths([root], ROOT)).toEqual([join(root, 'a.json'), join(root, 'b.json'), join(root, 'deep/er/c.json')]);
  });

  test('takes a named file as it is, whatever its extension', async () => {
    expect(await collectFixturePaths([join(root, 'notes.txt')], ROOT)).toEqual([join(root, 'notes.txt')]);
  });

  test('expands a glob pattern', async () => {
    expect(await collectFixturePaths([join(root, '*.json')], ROOT)).toEqual([join(root, 'a.json'), join(root, 'b.json')]);
    expect(await collectFixturePaths([join(root, '**/c.json')], ROOT)).toEqual([join(root, 'deep/er/c.json')]);
  });

  test('reads relative paths and patterns from the working directory given, and names the files as given', async () => {
    expect(await collectFixturePaths(['deep', 'a.json'], root)).toEqual(['a.json', join('deep', 'er', 'c.json')]);
    expect(await collectFixturePaths(['*.json'], root)).toEqual(['a.json', 'b.json']);
    await expect(collectFixturePaths(['a.json'], join(root, 'deep'))).rejects.toThrow('cannot read a.json: no such file or folder');
  });

  test('lists a file named twice once', async () => {
    expect(await collectFixturePaths([join(root, 'a.json'), root, join(root, 'a.json')], ROOT)).toHaveLength(3);
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
