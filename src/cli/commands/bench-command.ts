import { BENCH_METHODS, runBench, type BenchMethod } from '../../bench/run-bench.js';
import { InputError } from '../../input-error.js';
import { renderBenchJson, renderBenchText } from '../../output/render-bench.js';
import type { Outcome } from '../exit-code.js';
import { TOOL, type Io } from '../io.js';

export interface BenchFlags {
  sizes?: string;
  methods: string;
  format: 'text' | 'json';
  allowSlow: boolean;
}

/** Above this many entries (about 20 s) a Jacobian size needs --allow-slow. */
const JACOBIAN_BENCH_LIMIT = 2e10;

/** `bench`: each method's time at a range of sizes, its growth exponent, and a chart. */
export async function benchCommand(flags: BenchFlags, io: Io): Promise<Outcome> {
  const methods = flags.methods.split(',').map((m) => m.trim());
  const unknown = methods.find((m) => !(BENCH_METHODS as readonly string[]).includes(m));
  if (unknown !== undefined) throw new InputError(`--methods: unknown method ${JSON.stringify(unknown)} (known: ${BENCH_METHODS.join(', ')})`);
  const sizes = flags.sizes === undefined ? undefined : readSizes(flags.sizes);
  const largest = sizes === undefined ? 0 : Math.max(...sizes);
  if (methods.includes('jacobian') && largest * largest > JACOBIAN_BENCH_LIMIT && !flags.allowSlow) {
    throw new InputError(`--sizes: a Jacobian of n = ${largest} is ${(largest * largest).toExponential(1)} entries, over a minute here; add --allow-slow, or leave jacobian out of --methods`);
  }
  const series = runBench(methods as BenchMethod[], sizes);
  io.stdout.write(flags.format === 'json' ? renderBenchJson(series, TOOL, process.version) : renderBenchText(series));
  return { kind: 'info-shown' };
}

function readSizes(text: string): number[] {
  const sizes = text.split(',').map((part) => part.trim());
  return sizes.map((part) => {
    const n = /^\d+(e\d+)?$/.test(part) ? Number(part) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > 1e8) throw new InputError(`--sizes must be whole numbers from 1 to 1e8, separated by commas, got ${JSON.stringify(part)}`);
    return n;
  });
}
