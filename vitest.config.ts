import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Store contract suites share one PostgreSQL database; files run one at a time to keep
    // the 2-core machine predictable. Tests inside a file still run in order.
    fileParallelism: false,
    reporters: ['default'],
  },
});
