import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'softmax-verify.js');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the built command as a user would, with stdout and stderr piped (so not a terminal) and
 * the colour variables cleared unless a test sets them.
 */
export function runCli(args: readonly string[], options: { stdin?: string; env?: Record<string, string>; cwd?: string } = {}): CliRun {
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
 * Runs the command line in this process, as `main` does for the binary: much faster than
 * spawning node, for tests that do not need the built bundle, a real terminal or stdin.
 */
export async function runMain(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const { main } = await import('../../src/cli/main.js');
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => err.push(text) }, env };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}
