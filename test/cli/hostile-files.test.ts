import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { fixtureText } from '../helpers/fixtures.js';
import { BIN, runCli, runMain } from '../helpers/run-cli.js';
import { folderWith } from '../helpers/temp-dir.js';
import { zerosStream, zip } from '../helpers/zip-writer.js';

const SEED = fixtureText('seed.json');

describe('check in a fixture folder that cannot be trusted', () => {
  test('two links back up (dir/up -> ..) end promptly: each fixture checked once, each link an ERROR', async () => {
    const dir = folderWith({ 'fixtures/seed.json': SEED, 'fixtures/dir/masked.json': fixtureText('masked.json'), 'fixtures/dir2/keep': '' });
    symlinkSync('..', join(dir, 'fixtures', 'dir', 'up'));
    symlinkSync('..', join(dir, 'fixtures', 'dir2', 'up'));
    const { code, stdout, stderr } = await runMain(['check', 'fixtures'], { cwd: dir });
    expect(stderr).toBe('');
    expect(code).toBe(2);
    expect(stdout.match(/^(PASS|FAIL|ERROR) .*$/gm)!.map((line) => line.replace(/ +/g, ' '))).toEqual([
      'PASS masked [6] float64 fixtures/dir/masked.json',
      'ERROR up fixtures/dir/up',
      'ERROR up fixtures/dir2/up',
      'PASS seed [9] float64 fixtures/seed.json',
    ]);
    expect(stdout).toContain('       a symbolic link back to a folder above it, a loop: not followed\n');
    expect(stdout).toContain('4 fixtures: 2 passed, 0 failed, 2 errored');
  });

  test('a link out of the folder is an ERROR naming it, and what it leads to is never read nor quoted', async () => {
    const secret = folderWith({ 'secret.json': 'TOP-SECRET-VALUE = 1\n' });
    const dir = folderWith({ 'fixtures/seed.json': SEED });
    symlinkSync(join(secret, 'secret.json'), join(dir, 'fixtures', 'shadow.json'));
    symlinkSync('/proc/self/environ', join(dir, 'fixtures', 'environ.json'));
    const { code, stdout, stderr } = await runMain(['check', 'fixtures'], { cwd: dir, env: { GITHUB_ACTIONS: 'true', SOME_TOKEN: 'TOP-SECRET-VALUE' } });
    expect(code).toBe(2);
    expect(`${stdout}${stderr}`).not.toContain('TOP-SECRET');
    expect(stdout).toContain('a symbolic link that leads outside fixtures, the folder given: not followed');
    expect(stdout.match(/^::error file=[^,]+/gm)).toEqual(['::error file=fixtures/environ.json', '::error file=fixtures/shadow.json']);
  });

  test('a FIFO or a device named *.json is refused unopened, and the run goes on', async () => {
    const dir = folderWith({ 'fixtures/seed.json': SEED });
    expect(spawnSync('mkfifo', [join(dir, 'fixtures', 'fifo.json')]).status).toBe(0);
    const device = spawnSync('mknod', [join(dir, 'fixtures', 'zero.json'), 'c', '1', '5']).status === 0;
    // Opening the FIFO would wait for a writer for ever; the test would time out.
    const { code, stdout } = await runMain(['check', 'fixtures'], { cwd: dir });
    expect(code).toBe(2);
    expect(stdout).toContain('it is a pipe (FIFO), not a fixture file: only regular files are read from a folder');
    if (device) expect(stdout).toContain('it is a character device, not a fixture file: only regular files are read from a folder');
    expect(stdout).toContain(`${device ? 3 : 2} fixtures: 1 passed, 0 failed, ${device ? 2 : 1} errored`);
  });

  test('a fixture naming a .npy that is a device or a FIFO in its folder: an ERROR, never read', async () => {
    const doc = JSON.parse(SEED);
    const dir = folderWith({});
    mkdirSync(join(dir, 'fixtures'));
    writeFileSync(join(dir, 'fixtures', 'by-fifo.json'), JSON.stringify({ ...doc, x: 'x.npy' }));
    writeFileSync(join(dir, 'fixtures', 'by-device.json'), JSON.stringify({ ...doc, g: 'g.npy' }));
    expect(spawnSync('mkfifo', [join(dir, 'fixtures', 'x.npy')]).status).toBe(0);
    const device = spawnSync('mknod', [join(dir, 'fixtures', 'g.npy'), 'c', '1', '5']).status === 0;
    const { code, stdout } = await runMain(['check', 'fixtures'], { cwd: dir });
    expect(code).toBe(2);
    expect(stdout).toContain('x: cannot read x.npy: it is a pipe (FIFO), not a file (only regular files are read)');
    expect(stdout).toContain(device ? 'g: cannot read g.npy: it is a character device, not a file (only regular files are read)' : 'g: cannot read g.npy: no such file');
  });
});

describe('reports and fixtures kept apart on real paths, before anything runs', () => {
  test('check --junit through a link to the fixtures folder is refused as the direct spelling is (the fxlink case)', async () => {
    const dir = folderWith({ 'fixtures/seed.json': SEED });
    symlinkSync('fixtures', join(dir, 'fxlink'));
    for (const args of [
      ['check', 'fixtures', '--junit', 'fxlink/seed.json', '--force'],
      ['check', 'fxlink', '--json', 'fixtures/seed.json', '--force'],
      ['check', 'fixtures/seed.json', '--markdown', './fxlink/../fxlink/seed.json', '--force'],
    ]) {
      const { code, stdout, stderr } = await runMain(args, { cwd: dir });
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^error: --(junit|json|markdown) names \S+, one of the fixtures being checked: write the report elsewhere\n$/);
    }
    expect(readFileSync(join(dir, 'fixtures', 'seed.json'), 'utf8')).toBe(SEED);
  });

  test('two report flags naming one file through a link are refused', async () => {
    const dir = folderWith({ 'fixtures/seed.json': SEED });
    symlinkSync('.', join(dir, 'here'));
    expect(await runMain(['check', 'fixtures', '--junit', 'r.xml', '--markdown', 'here/r.xml'], { cwd: dir })).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: --junit and --markdown both name here/r.xml: give each report its own file\n',
    });
  });

  test('record -o naming its own input (directly, through a link to it, through a folder link) is refused, even with --force', async () => {
    const input = JSON.stringify({ x: [1, 2], g: [1, 0] });
    const dir = folderWith({ 'dumps/in.json': input, 'dumps/x.npy': '' });
    symlinkSync('in.json', join(dir, 'dumps', 'alias.json'));
    symlinkSync('dumps', join(dir, 'dlink'));
    for (const output of ['dumps/in.json', 'dumps/alias.json', 'dlink/in.json']) {
      expect(await runMain(['record', '--input', 'dumps/in.json', '--name', 'n', '-o', output, '--force'], { cwd: dir })).toEqual({
        code: 2,
        stdout: '',
        stderr: `error: -o names ${output}, a file this record reads its input from: write the fixture elsewhere\n`,
      });
    }
    expect(readFileSync(join(dir, 'dumps', 'in.json'), 'utf8')).toBe(input);
    expect(statSync(join(dir, 'dumps', 'alias.json')).isFile()).toBe(true);
  });

  test('record -o /dev/null --force (as root, as in CI containers) is refused, and /dev/null stays a device', async () => {
    const result = await runMain(['record', '--x', '1,2', '--g', '1,0', '-o', '/dev/null', '--force']);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: cannot write /dev/null: it is a character device, not a regular file (--force replaces regular files only)\n',
    });
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  test('record -o through a link to a fixture replaces the fixture, and the link stays a link', async () => {
    const dir = folderWith({ 'fixtures/old.json': '{"old": true}\n' });
    symlinkSync(join('fixtures', 'old.json'), join(dir, 'current.json'));
    const { code } = await runMain(['record', '--x', '1,2', '--g', '1,0', '--name', 'new', '-o', 'current.json', '--force'], { cwd: dir });
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'fixtures', 'old.json'), 'utf8')).name).toBe('new');
    expect(readdirSync(join(dir, 'fixtures'))).toEqual(['old.json']);
    expect(spawnSync('test', ['-L', join(dir, 'current.json')]).status).toBe(0);
  });
});

describe('files that never end, and files that inflate', () => {
  test('a .npy linked to /dev/zero, --input /dev/zero: refused unopened, at once', async () => {
    const dir = folderWith({});
    symlinkSync('/dev/zero', join(dir, 'zero.npy'));
    expect(await runMain(['--x', 'zero.npy', '--g', '1'], { cwd: dir })).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: x: cannot read zero.npy: it is a character device, not a file (only regular files and pipes are read)\n',
    });
    expect((await runMain(['--x', '1', '--g', '1', '--expected-grad', 'zero.npy'], { cwd: dir })).stderr).toBe(
      'error: --expected-grad: cannot read zero.npy: it is a character device, not a file (only regular files and pipes are read)\n',
    );
    expect((await runMain(['--input', '/dev/zero'], { cwd: dir })).stderr).toBe(
      'error: cannot read --input /dev/zero: it is a character device, not a file (only regular files and pipes are read)\n',
    );
  });

  test('--input <(command) is a pipe the user named on purpose, and is read', () => {
    const dir = folderWith({ 'dump.json': JSON.stringify({ x: [1, 2, 3], g: [1, 0, 0] }) });
    const result = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" --input <(cat dump.json) --summary`], { cwd: dir, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^softmax-verify: \/dev\/fd\/\d+\n/);
  });

  test('a 2 MB .npz that inflates to 2 GiB is refused before it inflates, by the built command', () => {
    const dir = folderWith({});
    writeFileSync(join(dir, 'bomb.npz'), zip([{ name: 'x.npy', data: new Uint8Array(), method: 8, raw: zerosStream(2048), size: 2 ** 31 }]));
    expect(runCli(['--input', 'bomb.npz'], { cwd: dir })).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: bomb.npz is too large to read: its members declare 2147483648 bytes uncompressed by member x.npy, over the 1073741824 (1 GiB) an .npz may inflate to\n',
    });
  });
});
