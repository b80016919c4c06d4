import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/plain-summary-reporter.ts'],
    // Rebuilds when anything under src/ is newer than the build: no test runs a stale one.
    globalSetup: ['./test/global-setup.ts'],
    // Each file still in its own module graph; threads start faster than processes, and vitest's
    // default (one worker fewer than the cores) would run one file at a time on two cores.
    pool: 'threads',
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // A few tests spawn the built command; a cold start of node is well under this on a busy machine.
    testTimeout: 20_000,
  },
});
