import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Io } from '../../src/cli/io.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'softmax-verify.js');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What a command line runs with besides its arguments, as a user's shell would give it. */
export interface RunOptions {
  /** stdin's text (for `--input -`); empty when not given. */
  readonly stdin?: string;
  readonly env?: Record<string, string>;
  /** The working directory relative paths are resolved against; the project's root when not given. */
  readonly cwd?: string;
}

/**
 * Runs the built command as a user would, with stdout and stderr piped (so not a terminal) and
 * the colour variables cleared unless a test sets them. The build is fresh: test/global-setup.ts
 * rebuilds it before the tests when anything it is built from is newer.
 */
export function runCli(args: readonly string[], options: RunOptions = {}): CliRun {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['FORCE_COLOR', 'NO_COLOR', 'NODE_DISABLE_COLORS', 'SOFTMAX_VERIFY_DEBUG']) delete env[name];
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.stdin ?? '',
    env: { ...env, ...options.env },
    encoding: 'utf8',
    // Large reports are megabytes: spawnSync's default 1 MB would cut them off.
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export const ANSI = /\u001b\[/;

/**
 * An Io for `main` in process: the environment only as given (none of the runner's), stdin
 * holding `stdin` (empty when not given) as a pipe would, and the project's root as the working
 * directory unless another is given.
 */
export function testIo(parts: Pick<Io, 'stdout' | 'stderr'> & RunOptions): Io {
  const { stdout, stderr, stdin = '', env = {}, cwd = ROOT } = parts;
  return { stdout, stderr, env, cwd, stdin: Readable.from(stdin === '' ? [] : [Buffer.from(stdin)]) };
}

/**
 * Runs the command line in this process, as `main` does for the binary, with the options runCli
 * takes: much faster than spawning node, for tests that do not need the built bundle or a
 * real terminal. (Colour is decided by chalk from the process's own terminal and environment:
 * tests of colour spawn the command; so do the ones whose explicit Jacobians start worker
 * threads, whose module exists only built.)
 */
export async function runMain(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  const { main } = await import('../../src/cli/main.js');
  const out: string[] = [];
  const err: string[] = [];
  const io = testIo({ ...options, stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => err.push(text) } });
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}
