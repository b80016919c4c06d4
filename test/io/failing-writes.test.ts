import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cutToBytes, writeFileAtomic } from '../../src/io/atomic-write.js';
import { systemCalls } from '../../src/io/system-calls.js';
import { fixtureText } from '../helpers/fixtures.js';
import { BIN, ROOT, runMain } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';

/**
 * writeSync as a nearly full or failing disk answers it: `short` takes at most that many bytes a
 * call, `failAfter` fails with `code` once that many bytes are in (taking what fits first, as
 * write(2) does), `zero` takes nothing. Put in place by `faulty`, taken out by `faulty({})`.
 */
const disk = { short: 0, failAfter: -1, code: 'ENOSPC', zero: false, written: 0, calls: 0 };
const realWriteSync = systemCalls.writeSync;
/** Called as atomic-write calls it: (fd, bytes, offset, length). */
function faultyWriteSync(fd: number, buffer: Uint8Array, offset: number, length: number): number {
  disk.calls++;
  if (disk.zero) return 0;
  let take = length;
  if (disk.short > 0) take = Math.min(take, disk.short);
  if (disk.failAfter >= 0) {
    if (disk.written >= disk.failAfter) throw Object.assign(new Error(`${disk.code}: injected, write`), { code: disk.code, syscall: 'write' });
    take = Math.min(take, disk.failAfter - disk.written);
  }
  const count = realWriteSync(fd, buffer, offset, take);
  disk.written += count;
  return count;
}

function faulty(settings: Partial<typeof disk>): void {
  Object.assign(disk, { short: 0, failAfter: -1, code: 'ENOSPC', zero: false, written: 0, calls: 0 }, settings);
  systemCalls.writeSync = Object.keys(settings).length === 0 ? realWriteSync : (faultyWriteSync as typeof systemCalls.writeSync);
}

const OLD = '{"old": "a good fixture, which must survive whole"}\n';
const TEXT = `${'[1.5, -2.25, 3e-300, "naïve ✓ 𝄞"]\n'.repeat(20_000)}`;

describe('writeFileAtomic on a disk that fails', () => {
  test('continues after short writes until every byte is in, multi-byte characters whole', () => {
    const dir = folderWith({ 'out.json': OLD });
    faulty({ short: 4093 });
    let calls = 0;
    try {
      writeFileAtomic(join(dir, 'out.json'), TEXT, true, ROOT);
      calls = disk.calls;
    } finally {
      faulty({});
    }
    expect(readFileSync(join(dir, 'out.json'), 'utf8')).toBe(TEXT);
    // Each call took at most 4,093 bytes: the loop went on after every short one.
    expect(calls).toBeGreaterThanOrEqual(Math.ceil(Buffer.byteLength(TEXT) / 4093));
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  test.each([
    ['ENOSPC', 'no space left on the device'],
    ['EIO', 'an input/output error on the device'],
    ['EDQUOT', 'the disk quota is exceeded'],
  ])('%s midway: an InputError naming the file, the temporary file removed, the old file whole', (code, reason) => {
    const dir = folderWith({ 'out.json': OLD });
    faulty({ failAfter: 100_000, code });
    try {
      expect(() => writeFileAtomic(join(dir, 'out.json'), TEXT, true, ROOT)).toThrow(`cannot write ${join(dir, 'out.json')}: ${reason}`);
      expect(disk.written).toBe(100_000);
    } finally {
      faulty({});
    }
    expect(readFileSync(join(dir, 'out.json'), 'utf8')).toBe(OLD);
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  test('a write that takes no bytes at all is a failure, not a loop', () => {
    const dir = folderWith({});
    faulty({ zero: true });
    try {
      expect(() => writeFileAtomic('new.json', 'text', false, dir)).toThrow('cannot write new.json: an input/output error on the device');
    } finally {
      faulty({});
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a new file that cannot be written whole is not there at all', () => {
    const dir = folderWith({});
    faulty({ failAfter: 10 });
    try {
      expect(() => writeFileAtomic('new.json', TEXT, false, dir)).toThrow('cannot write new.json: no space left on the device');
    } finally {
      faulty({});
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  test('names within NAME_MAX: a 255-byte name of multi-byte characters is written, its temporary name cut to fit', () => {
    const dir = folderWith({});
    const name = `${'é'.repeat(125)}.json`;
    expect(Buffer.byteLength(name)).toBe(255);
    writeFileAtomic(name, 'text', false, dir);
    expect(readdirSync(dir)).toEqual([name]);
    expect(cutToBytes('aé𝄞b', 3)).toBe('aé');
    expect(cutToBytes('aé𝄞b', 6)).toBe('aé');
    expect(cutToBytes('aé𝄞b', 7)).toBe('aé𝄞');
    expect(cutToBytes('short', 255)).toBe('short');
  });
});

describe('record and check on a disk that fails midway', () => {
  test('record --force: exit 2 and one line, nothing claimed written, the old fixture whole', async () => {
    const dir = folderWith({ 'big.json': OLD });
    const x = Array.from({ length: 20_000 }, (_, i) => Math.sin(i)).join(',');
    faulty({ failAfter: 50_000 });
    let result;
    try {
      result = await runMain(['record', '--x', x, '--g', x, '--name', 'big', '-o', 'big.json', '--force'], { cwd: dir });
    } finally {
      faulty({});
    }
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'error: cannot write big.json: no space left on the device\n' });
    expect(readFileSync(join(dir, 'big.json'), 'utf8')).toBe(OLD);
    expect(readdirSync(dir)).toEqual(['big.json']);
  });

  test('check --junit --json: a report that fails is exit 2, never the verdict, and the others are still written', async () => {
    const dir = folderWith({ 'fixtures/seed.json': fixtureText('seed.json'), 'r.json': OLD });
    // The JUnit report (written first) fits; the JSON report's bytes run out.
    const junit = await runMain(['check', 'fixtures', '--format', 'junit'], { cwd: dir });
    faulty({ failAfter: Buffer.byteLength(junit.stdout) + 100 });
    let result;
    try {
      result = await runMain(['check', 'fixtures', '--junit', 'r.xml', '--json', 'r.json', '--force'], { cwd: dir });
    } finally {
      faulty({});
    }
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('1 fixture: 1 passed, 0 failed, 0 errored');
    expect(result.stderr).toBe('error: --json: cannot write r.json: no space left on the device (the other reports were written)\n');
    const untimed = (xml: string): string => xml.replace(/time="[^"]*"/g, 'time=""');
    expect(untimed(readFileSync(join(dir, 'r.xml'), 'utf8'))).toBe(untimed(junit.stdout));
    expect(readFileSync(join(dir, 'r.json'), 'utf8')).toBe(OLD);
    expect(readdirSync(dir).sort()).toEqual(['fixtures', 'r.json', 'r.xml']);
  });

  test('a file that is not regular is never replaced, even with --force', async () => {
    const dir = folderWith({ 'in.json': JSON.stringify({ x: [1, 2], g: [1, 0] }) });
    writeFileSync(join(dir, 'keep'), '');
    expect(await runMain(['record', '--input', 'in.json', '-o', '/dev/null', '--force'], { cwd: dir })).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: cannot write /dev/null: it is a character device, not a regular file (--force replaces regular files only)\n',
    });
  });
});

/**
 * A 256 kB tmpfs, where the test can mount one (root, and a `mount` that works: not in every CI
 * container); undefined otherwise. The caller unmounts it, whatever happens.
 */
function mountSmallDisk(): { dir: string; unmount: () => void } | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'softmax-verify-tmpfs-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How the scenario below runs its commands, fills its disk, and points stdout at it. */
interface FullDisk {
  readonly dir: string;
  run(args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  fill(): void;
  /** The command's stdout into a file on the full disk, as `> report.json` does. */
  runToFile(args: readonly string[], cwd: string): Promise<{ code: number | null; stderr: string }>;
  /** What the disk holds besides the fixture, once full. */
  readonly extra: readonly string[];
  release(): void;
}

/** The built command on a real full tmpfs. */
function tmpfsDisk(mounted: { dir: string; unmount: () => void }): FullDisk {
  const spawnIn = (args: readonly string[], cwd: string, stdout: 'pipe' | number) => {
    const result = spawnSync(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', stdout, 'pipe'], encoding: 'utf8' });
    return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr };
  };
  return {
    dir: mounted.dir,
    run: async (args, cwd) => spawnIn(args, cwd, 'pipe'),
    fill: () => {
      try {
        writeFileSync(join(mounted.dir, 'filler'), new Uint8Array(1 << 20));
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
    },
    runToFile: async (args, cwd) => {
      const out = openSync(join(mounted.dir, 'report.json'), 'w');
      try {
        const { code, stderr } = spawnIn(args, cwd, out);
        return { code, stderr };
      } finally {
        closeSync(out);
      }
    },
    extra: ['filler', 'report.json'],
    release: mounted.unmount,
  };
}

/** The same, in process, where no tmpfs can be mounted: every write fails with ENOSPC once the disk is "full". */
function injectedDisk(): FullDisk {
  const dir = folderWith({});
  return {
    dir,
    run: (args, cwd) => runMain(args, { cwd }),
    fill: () => faulty({ failAfter: 0 }),
    runToFile: async (args, cwd) => {
      const { main } = await import('../../src/cli/main.js');
      const { testIo } = await import('../helpers/run-cli.js');
      const err: string[] = [];
      const stdout = {
        write: () => {
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        },
      };
      const code = await main(args, testIo({ stdout, stderr: { write: (text: string) => err.push(text) }, cwd }));
      return { code, stderr: err.join('') };
    },
    extra: [],
    release: () => {
      faulty({});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('a full disk', () => {
  // TEST_NO_MOUNT=1 runs the injected form where a tmpfs could be mounted.
  const mounted = process.env.TEST_NO_MOUNT ? undefined : mountSmallDisk();
  const how = mounted === undefined ? 'by injection (no tmpfs can be mounted here)' : 'on a real 256 kB tmpfs';
  test(`${how}: record, check's reports and a redirected stdout each end in exit 2 and one line, nothing half-written`, async () => {
    const disk = mounted === undefined ? injectedDisk() : tmpfsDisk(mounted);
    const x = Array.from({ length: 20_000 }, (_, i) => Math.sin(i));
    const inputs = folderWith({ 'big-dump.json': JSON.stringify({ x, g: x }), 'fixtures/seed.json': fixtureText('seed.json') });
    try {
      const target = join(disk.dir, 'big.json');
      expect((await disk.run(['record', '--x', '1,2,3', '--g', '1,0,0', '--name', 'good', '-o', target], inputs)).code).toBe(0);
      const good = readFileSync(target, 'utf8');
      disk.fill();

      expect(await disk.run(['record', '--input', 'big-dump.json', '--name', 'big', '-o', target, '--force'], inputs)).toEqual({
        code: 2,
        stdout: '',
        stderr: `error: cannot write ${target}: no space left on the device\n`,
      });
      expect(readFileSync(target, 'utf8')).toBe(good);

      const reports = await disk.run(['check', 'fixtures', '--junit', join(disk.dir, 'r.xml'), '--json', join(disk.dir, 'r.json')], inputs);
      expect(reports.code).toBe(2);
      expect(reports.stdout).toContain('1 fixture: 1 passed, 0 failed, 0 errored');
      expect(reports.stderr).toBe(
        `error: --junit: cannot write ${join(disk.dir, 'r.xml')}: no space left on the device; --json: cannot write ${join(disk.dir, 'r.json')}: no space left on the device\n`,
      );

      expect(await disk.runToFile(['--format', 'json'], inputs)).toEqual({ code: 2, stderr: 'error: cannot write to stdout: no space left on the device\n' });
      expect(readdirSync(disk.dir).sort()).toEqual(['big.json', ...disk.extra]);
    } finally {
      disk.release();
      rmSync(inputs, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('writeFileAtomic, whatever the disk does', () => {
  test('leaves the new text whole or the old file whole, never a part, and no temporary file', async () => {
    const { default: fc } = await import('fast-check');
    const { PROPERTY_OPTIONS } = await import('../helpers/properties.js');
    const dir = folderWith({});
    const target = join(dir, 'out.json');
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 3000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: -1, max: 12_000 }),
        fc.constantFrom('ENOSPC', 'EIO', 'EDQUOT', 'EFBIG'),
        (text, short, failAfter, code) => {
          writeFileSync(target, OLD);
          faulty({ short, failAfter, code });
          let failed = false;
          try {
            writeFileAtomic(target, text, true, ROOT);
          } catch (error) {
            failed = true;
            expect((error as Error).message).toMatch(new RegExp(`^cannot write ${target}: [^\\n]+$`));
          } finally {
            faulty({});
          }
          // A lone surrogate is written as U+FFFD, as any UTF-8 encoder writes it.
          expect(readFileSync(target, 'utf8')).toBe(failed ? OLD : Buffer.from(text, 'utf8').toString('utf8'));
          expect(failed).toBe(failAfter >= 0 && failAfter < Buffer.byteLength(text));
          expect(readdirSync(dir)).toEqual(['out.json']);
        },
      ),
      PROPERTY_OPTIONS,
    );
  });
});
