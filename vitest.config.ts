import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // worker threads and the CLI run dist/: refuse to test a build older than src/
    globalSetup: ['test/setup/fresh-dist.ts'],
    testTimeout: 60_000,
    // Two cores: one worker per core; fixtures are small.
    pool: 'forks',
    maxWorkers: 2,
  },
});
