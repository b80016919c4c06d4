import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseSafetensors } from '../input/safetensors.js';
import { InputError } from '../input-error.js';
import { printable } from '../printable.js';
import type { HuntCase } from './hunt-case.js';
import { kernelInputBytes, resultNames } from './kernel-input.js';
import type { Kernel, KernelAnswer } from './kernel.js';

/** The environment variable a kernel started by a hunt finds set to 1. */
export const PROTOCOL_VARIABLE = 'SOFTMAX_VERIFY_KERNEL_PROTOCOL';

/**
 * A kernel that speaks the protocol v1 (docs/hunt.md): started once through the shell (and again
 * after it dies), one JSON line a case on its stdin, `{"input": "<path>", "output": "<path>"}`, and
 * one line back, `{"ok": true}` with the output file written, or `{"ok": false, "error": "..."}`
 * to decline the case. A kernel that exits, prints anything else or exceeds the case timeout broke
 * on that case: the answer says how, and the next case starts it anew.
 */
export function processKernel(command: string, options: { readonly caseSeconds?: number; readonly env?: NodeJS.ProcessEnv; readonly cwd?: string } = {}): Kernel {
  const folder = mkdtempSync(join(tmpdir(), 'softmax-verify-hunt-'));
  const caseMs = (options.caseSeconds ?? 60) * 1000;
  let running: Running | undefined;
  let count = 0;
  // A kernel's start-up (python, torch, a GPU context) is not its case: the first case after a start
  // is given START_MS more the first time, then twice the longest a start took to answer or exit (at least 1 s).
  let learnedStartMs: number | undefined;

  const start = (): Running => {
    // Its own process group: the shell and what it starts are stopped together (a hung python under sh).
    const child = spawn(command, { shell: true, detached: true, cwd: options.cwd, env: { ...(options.env ?? process.env), [PROTOCOL_VARIABLE]: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let waiting: ((line: string | undefined) => void) | undefined;
    let stderr = '';
    let exited: string | undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (waiting !== undefined) {
        const answer = waiting;
        waiting = undefined;
        answer(line);
      } else lines.push(line);
    });
    child.on('exit', (code, signal) => {
      exited = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
      waiting?.(undefined);
      waiting = undefined;
    });
    child.on('error', (error) => {
      exited = `could not start: ${error.message}`;
      waiting?.(undefined);
      waiting = undefined;
    });
    // A write to a kernel that died is its crash, answered by the exit above.
    child.stdin.on('error', () => {});
    return {
      child,
      stderrTail: () => stderr.trim().split('\n').slice(-3).join(' | '),
      exited: () => exited,
      nextLine: (ms) =>
        new Promise((resolve) => {
          if (lines.length > 0) return resolve(lines.shift());
          if (exited !== undefined) return resolve(undefined);
          const timer = setTimeout(() => {
            waiting = undefined;
            resolve(TIMED_OUT);
          }, ms);
          waiting = (line) => {
            clearTimeout(timer);
            resolve(line);
          };
        }),
    };
  };

  const stop = () => {
    if (running !== undefined) killGroup(running.child);
    running = undefined;
  };

  return {
    name: command,
    async run(hunted: HuntCase): Promise<KernelAnswer> {
      count++;
      const input = join(folder, `case-${count}-input.safetensors`);
      const output = join(folder, `case-${count}-output.safetensors`);
      writeFileSync(input, kernelInputBytes(hunted));
      const fresh = running === undefined;
      running ??= start();
      const current = running;
      const sent = Date.now();
      current.child.stdin.write(`${JSON.stringify({ input, output })}\n`);
      const startMs = learnedStartMs ?? START_MS;
      const line = await current.nextLine(fresh ? caseMs + startMs : caseMs);
      try {
        // An answer or an exit tells how long a start takes; a crash on the first case counts too.
        if (fresh && line !== TIMED_OUT) learnedStartMs = Math.max(learnedStartMs ?? 0, 2 * (Date.now() - sent), 1000);
        if (line === TIMED_OUT) {
          stop();
          return { kind: 'hang', detail: `no answer within ${caseMs / 1000} s${fresh ? ', its start-up aside' : ''}` };
        }

        if (line === undefined) {
          const how = current.exited() ?? 'stopped';
          running = undefined;
          const tail = current.stderrTail();
          return { kind: 'crash', detail: `the kernel ${how}${tail === '' ? '' : `: ${printable(tail)}`}` };
        }
        return readAnswer(line, output, hunted, stop);
      } finally {
        rmSync(input, { force: true });
        rmSync(output, { force: true });
      }
    },
    async close() {
      if (running !== undefined) {
        running.child.stdin.end();
        const child = running.child;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            killGroup(child);
            resolve();
          }, 2000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            resolve();
          }
        });
        running = undefined;
      }
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** How long a kernel's first start may take, on top of its first case's timeout. */
const START_MS = 60_000;

/** What nextLine gives when the case timeout passes first (no line a kernel prints can be it). */
const TIMED_OUT = Symbol('timed out');

/** The kernel's shell and everything it started. */
function killGroup(child: ChildProcessWithoutNullStreams): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
  child.stdout.destroy();
  child.stderr.destroy();
}

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stderrTail: () => string;
  readonly exited: () => string | undefined;
  readonly nextLine: (ms: number) => Promise<string | typeof TIMED_OUT | undefined>;
}

/** The kernel's line and output file, as an answer; anything outside the protocol stops the kernel. */
function readAnswer(line: string, output: string, hunted: HuntCase, stop: () => void): KernelAnswer {
  const broken = (detail: string): KernelAnswer => {
    stop();
    return { kind: 'protocol-error', detail };
  };
  let said: unknown;
  try {
    said = JSON.parse(line);
  } catch {
    return broken(`the kernel printed ${printable(JSON.stringify(line.slice(0, 80)))}, not a JSON answer`);
  }
  if (typeof said !== 'object' || said === null || typeof (said as { ok?: unknown }).ok !== 'boolean') {
    return broken(`the kernel answered ${printable(line.slice(0, 80))}, not {"ok": true} or {"ok": false, "error": ...}`);
  }
  const answer = said as { ok: boolean; error?: unknown };
  if (!answer.ok) return { kind: 'declined', reason: printable(String(answer.error ?? 'no reason given')).slice(0, 200) };
  let tensors;
  try {
    tensors = parseSafetensors(new Uint8Array(readFileSync(output)), 'the output file').tensors;
  } catch (error) {
    if (error instanceof InputError || (error as NodeJS.ErrnoException).code !== undefined) return broken(`its output file cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
  const names = resultNames(hunted);
  const forward = tensors.get(names.forward);
  const grad = tensors.get(names.grad);
  if (forward === undefined || grad === undefined) {
    return broken(`its output file holds ${[...tensors.keys()].map((name) => JSON.stringify(name)).join(', ') || 'nothing'}, not "${names.forward}" and "grad"`);
  }
  return { kind: 'results', forward, grad };
}
