import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/plain-summary-reporter.ts'],
    // Rebuilds when anything under src/ is newer than the build: no test runs a stale one.
    globalSetup: ['./test/global-setup.ts'],
    // Threads start faster than processes, and vitest's default (one worker fewer than the cores)
    // would run one file at a time on two cores. Files share a worker's modules (isolate: false):
    // importing them afresh for each of some 70 files was a tenth of the run (5 s of 36). The modules
    // keep no state a test can see but the worker pool, which the tests that count it close first.
    pool: 'threads',
    isolate: false,
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // A few tests spawn the built command; a cold start of node is well under this on a busy machine.
    testTimeout: 20_000,
  },
});
