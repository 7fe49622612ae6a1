import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Two cores: one worker per core; fixtures are small.
    pool: 'forks',
    maxWorkers: 2,
  },
});
