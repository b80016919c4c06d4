import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/plain-summary-reporter.ts'],
    // The CLI tests spawn the built command; a cold start of node is well under this on a busy machine.
    testTimeout: 20_000,
  },
});
