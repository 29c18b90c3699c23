import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // End-to-end tests spawn strace, bpftrace and JVMs; on two cores, running
    // them all at once makes timing-sensitive capture tests flaky.
    maxWorkers: 2,
  },
});
