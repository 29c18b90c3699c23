import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // End-to-end tests spawn strace, bpftrace and JVMs; on two cores, running
    // them all at once makes timing-sensitive capture tests flaky.
    maxWorkers: 2,
    // Every run's temporary files in a directory of its own, removed at its end (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
  },
});
