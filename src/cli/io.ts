import { InputError } from '../input-error.js';
import { writeFailure } from '../io/write-failure.js';

/**
 * Where a command writes, and what it reads of its surroundings: the environment, stdin (for
 * `--input -`) and the working directory every relative path is resolved against (--input, .npy
 * files, check's paths and globs, report files, record's output, $GITHUB_STEP_SUMMARY). The
 * launcher passes the process's own; tests pass their own, and run the command in process.
 */
export interface Io {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  /** A terminal (isTTY) shows the long steps' progress. */
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: NodeJS.ReadableStream;
  /** An absolute path. */
  readonly cwd: string;
  /**
   * Told the exit code as soon as the verdict is known, before the report is written: the launcher
   * keeps it for a reader that closes the pipe early (`| head`), which is no reason to change it.
   */
  readonly verdictKnown?: (exitCode: number) => void;
}

export { TOOL } from '../core/tool.js';

/** What of a Node stream the guard listens to and hands on (json-stream waits for 'drain' through it). */
interface StreamEvents {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly destroyed?: boolean;
}

/** The one line for a write to stdout (or stderr) that failed: `cannot write to stdout: no space left on the device`. */
export function describeOutputFailure(stream: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code === 'EPIPE' ? 'the reader closed the pipe' : code?.startsWith('ERR_STREAM_') ? 'the stream was closed' : writeFailure(error);
  return `cannot write to ${stream}: ${reason}`;
}

/**
 * Runs `work` with an stdout whose failures are the user's, not bugs: a full disk behind
 * `> report.json`, /dev/full, an I/O error. A write that throws such an error, or one the stream
 * reports later ('error'), becomes an InputError (`cannot write to stdout: …`, exit 2) at the next
 * write or when the work ends, whatever the work itself then threw: output cut short is never a
 * verdict's exit code, nor a stack trace. (The launcher exits at once on the process's own stdout,
 * bin/softmax-verify.js; this is the same rule for a caller's Io, in process.)
 */
export async function withCheckedOutput<T>(io: Io, work: (io: Io) => Promise<T>): Promise<T> {
  let failure: InputError | undefined;
  const fail = (error: unknown): InputError => (failure ??= new InputError(describeOutputFailure('stdout', error)));
  const stdout = io.stdout;
  const events = isStream(stdout) ? stdout : undefined;
  const onError = (error: unknown): void => void fail(error);
  events?.on('error', onError);
  const write = (text: string): unknown => {
    if (failure !== undefined) throw failure;
    try {
      return stdout.write(text);
    } catch (error) {
      if (isOutputError(error)) throw fail(error);
      throw error;
    }
  };
  const checked: Io['stdout'] = events === undefined
    ? { write, get isTTY() { return stdout.isTTY; } }
    : {
        write,
        get isTTY() { return stdout.isTTY; },
        once: (event: string, listener: (...args: unknown[]) => void) => events.once(event, listener),
        removeListener: (event: string, listener: (...args: unknown[]) => void) => events.removeListener(event, listener),
        get destroyed() { return events.destroyed; },
      } as Io['stdout'];
  try {
    const result = await work({ ...io, stdout: checked });
    // A Node stream reports a failed write on a later tick (a file's on the next one): let it.
    if (events !== undefined) await new Promise((resolve) => setImmediate(resolve));
    if (failure !== undefined) throw failure;
    return result;
  } catch (error) {
    throw failure ?? error;
  } finally {
    events?.removeListener('error', onError);
  }
}

function isStream(stdout: Io['stdout']): stdout is Io['stdout'] & StreamEvents {
  const events = stdout as Partial<StreamEvents>;
  return typeof events.on === 'function' && typeof events.once === 'function' && typeof events.removeListener === 'function';
}

/** A system error (ENOSPC, EIO, EPIPE, …) or Node's own for a closed stream: the output's failure, not the tool's. */
function isOutputError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && (/^E[A-Z0-9]+$/.test(code) || code.startsWith('ERR_STREAM_'));
}
