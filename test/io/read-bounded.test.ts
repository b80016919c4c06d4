import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FileRefusal } from '../../src/io/file-kind.js';
import { readFileBounded } from '../../src/io/read-bounded.js';
import { folderWith } from '../helpers/temp-dir.js';

const tooLarge = (size: number | undefined): string => (size === undefined ? 'over the limit (a pipe)' : `over the limit (${size} bytes)`);

/** A FIFO in a fresh folder, with a writer process that writes `bytes` zeros into it and closes it. */
function fifoFedWith(bytes: number): { path: string; done: Promise<unknown> } {
  const path = join(folderWith({}), 'pipe');
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  const writer = spawn('sh', ['-c', `head -c ${bytes} /dev/zero > "$0"`, path], { stdio: 'ignore' });
  return { path, done: new Promise((resolve) => writer.on('close', resolve)) };
}

describe('readFileBounded', () => {
  test('reads a regular file whole, and refuses one over the limit unread', () => {
    const dir = folderWith({});
    writeFileSync(join(dir, 'small'), 'abc');
    writeFileSync(join(dir, 'large'), 'x'.repeat(101));
    expect(Buffer.from(readFileBounded(join(dir, 'small'), 100, tooLarge)).toString()).toBe('abc');
    expect(() => readFileBounded(join(dir, 'large'), 100, tooLarge)).toThrow(new FileRefusal('over the limit (101 bytes)'));
  });

  test('reads a pipe to its end, within the limit, and stops reading it one byte past', async () => {
    const within = fifoFedWith(300_000);
    expect(readFileBounded(within.path, 300_000, tooLarge).length).toBe(300_000);
    await within.done;
    const over = fifoFedWith(300_001);
    expect(() => readFileBounded(over.path, 300_000, tooLarge)).toThrow(new FileRefusal('over the limit (a pipe)'));
    await over.done;
  });

  test('refuses a pipe it was not asked to read, and devices, sockets and folders, without opening them', () => {
    const path = join(folderWith({}), 'pipe');
    expect(spawnSync('mkfifo', [path]).status).toBe(0);
    // Opening this FIFO would wait for a writer for ever.
    expect(() => readFileBounded(path, 100, tooLarge, false)).toThrow(new FileRefusal('it is a pipe (FIFO), not a file (only regular files are read)'));
    expect(() => readFileBounded('/dev/zero', 100, tooLarge)).toThrow(new FileRefusal('it is a character device, not a file (only regular files and pipes are read)'));
    expect(() => readFileBounded('/tmp', 100, tooLarge)).toThrow(new FileRefusal('it is a directory'));
  });

  test('reads a file that says it is empty and is not (as /proc files do) to its end, within the limit', () => {
    const status = Buffer.from(readFileBounded('/proc/self/status', 1 << 20, tooLarge)).toString();
    expect(status).toMatch(/^Name:\t/);
    expect(() => readFileBounded('/proc/self/status', 10, tooLarge)).toThrow(new FileRefusal('over the limit (a pipe)'));
  });
});
