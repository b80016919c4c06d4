import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkOutputPath, writeFileAtomic } from '../../src/io/atomic-write.js';
import { ROOT } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';

describe('writeFileAtomic', () => {
  test('writes a new file and leaves no temporary file behind', () => {
    const dir = folderWith({});
    writeFileAtomic(join(dir, 'out.json'), 'new\n', false, ROOT);
    expect(readFileSync(join(dir, 'out.json'), 'utf8')).toBe('new\n');
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  test('never replaces an existing file unless asked, and leaves it whole', () => {
    const dir = folderWith({ 'out.json': 'old\n' });
    const path = join(dir, 'out.json');
    expect(() => writeFileAtomic(path, 'new\n', false, ROOT)).toThrow(`${path} exists already: add --force to overwrite it`);
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  test('replaces an existing file when asked', () => {
    const dir = folderWith({ 'out.json': 'old\n' });
    writeFileAtomic(join(dir, 'out.json'), 'new\n', true, ROOT);
    expect(readFileSync(join(dir, 'out.json'), 'utf8')).toBe('new\n');
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  test('writes a relative path into the working directory given, and names it as given', () => {
    const dir = folderWith({ 'sub/old.json': 'old\n' });
    writeFileAtomic('sub/out.json', 'new\n', false, dir);
    expect(readFileSync(join(dir, 'sub', 'out.json'), 'utf8')).toBe('new\n');
    expect(() => checkOutputPath('sub/old.json', false, dir)).toThrow('sub/old.json exists already: add --force to overwrite it');
    expect(() => writeFileAtomic('sub/old.json', 'new\n', false, dir)).toThrow('sub/old.json exists already: add --force to overwrite it');
    expect(() => checkOutputPath('sub/out.json', false, ROOT)).toThrow('cannot write sub/out.json: its folder does not exist');
    expect(() => checkOutputPath('', true, dir)).toThrow('cannot write to an empty path: name a file');
  });

  test('says why it cannot write into a folder that does not exist', () => {
    const dir = folderWith({});
    const path = join(dir, 'no', 'out.json');
    expect(() => writeFileAtomic(path, 'x', false, ROOT)).toThrow(`cannot write ${path}: its folder does not exist`);
  });

  test('checkOutputPath fails early where the write would fail: an existing file, a folder, no folder', () => {
    const dir = folderWith({ 'a.json': '', 'sub/keep': '' });
    expect(() => checkOutputPath(join(dir, 'a.json'), false, ROOT)).toThrow(`${join(dir, 'a.json')} exists already: add --force to overwrite it`);
    expect(() => checkOutputPath(join(dir, 'a.json'), true, ROOT)).not.toThrow();
    expect(() => checkOutputPath(join(dir, 'b.json'), false, ROOT)).not.toThrow();
    expect(() => checkOutputPath(join(dir, 'sub'), true, ROOT)).toThrow(`cannot write ${join(dir, 'sub')}: it is a folder`);
    expect(() => checkOutputPath(join(dir, 'no', 'b.json'), true, ROOT)).toThrow(`cannot write ${join(dir, 'no', 'b.json')}: its folder does not exist`);
    expect(() => checkOutputPath(join(dir, 'a.json', 'b.json'), true, ROOT)).toThrow('a part of the path is not a folder');
  });
});
