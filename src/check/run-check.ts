import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { MAX_TEXT_BYTES, textSizeProblem } from '../input/text-size-limit.js';
import { checkFixture, type FixtureCheckOptions, type FixtureOutcome } from './check-fixture.js';
import type { ShardSlice } from './shard.js';

export interface CheckOptions extends FixtureCheckOptions {
  /** Stop after the first fixture that fails or errs. */
  readonly bail?: boolean;
  /** Called as each fixture finishes, so a long suite reports as it goes. */
  readonly onOutcome?: (outcome: FixtureOutcome) => void;
  /** The folder relative file paths are read from (default: the process's working directory); outcomes name them as given. */
  readonly cwd?: string;
}

export interface CheckRun {
  readonly outcomes: readonly FixtureOutcome[];
  readonly counts: { readonly passed: number; readonly failed: number; readonly errored: number };
  /** Fixtures not run because --bail stopped the suite. */
  readonly notRun: number;
  readonly seconds: number;
  /** With `--shard`: which part of the sorted fixture list this run checked. */
  readonly shard?: ShardSlice;
}

/**
 * Checks the fixture files in the order given, each through the run pipeline: a large explicit
 * Jacobian shares its rows among worker threads unless `parallel` is false (the same bits).
 */
export async function runCheck(files: readonly string[], options: CheckOptions): Promise<CheckRun> {
  const started = performance.now();
  const outcomes: FixtureOutcome[] = [];
  let stoppedAt = files.length;
  for (let i = 0; i < files.length; i++) {
    const outcome = await checkFile(files[i], options);
    if (outcome === undefined) continue;
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
    if (options.bail && outcome.status !== 'pass') {
      stoppedAt = i + 1;
      break;
    }
  }
  const count = (status: FixtureOutcome['status']): number => outcomes.filter((o) => o.status === status).length;
  return {
    outcomes,
    counts: { passed: count('pass'), failed: count('fail'), errored: count('error') },
    notRun: files.length - stoppedAt,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Files that `--input` reads as dumps: check reads fixtures, which carry a name, a source and a dtype. */
const DUMP = /\.(npz|safetensors|npy)$/i;

async function checkFile(path: string, options: CheckOptions): Promise<FixtureOutcome | undefined> {
  const fallbackName = basename(path, '.json');
  if (DUMP.test(path)) {
    if (options.select !== undefined && !options.select(fallbackName)) return undefined;
    const message = `a dump, not a fixture: record it first (softmax-verify record --input ${path} -o NAME.json), then check the fixture`;
    return { status: 'error', path, name: fallbackName, message, seconds: 0 };
  }
  let text: string;
  try {
    const file = resolve(options.cwd ?? '', path);
    const size = statSync(file).size;
    if (size > MAX_TEXT_BYTES) {
      if (options.select !== undefined && !options.select(fallbackName)) return undefined;
      return { status: 'error', path, name: fallbackName, message: `the file ${textSizeProblem(size)}`, seconds: 0 };
    }
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (options.select !== undefined && !options.select(fallbackName)) return undefined;
    return { status: 'error', path, name: fallbackName, message: `cannot read the file: ${reason}`, seconds: 0 };
  }
  return checkFixture(path, text, fallbackName, options);
}
