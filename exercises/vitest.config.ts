// vitest configuration for `npm run exercise NAME` (scripts/exercise.mjs): runs only
// exercises/exercise.test.ts, which loads the exercise named by $EXERCISE.
import { defineConfig } from 'vitest/config';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), '..'),
  test: {
    include: ['exercises/exercise.test.ts'],
    testTimeout: 60_000,
    // Worker threads, not forked processes: a learner's loop that never ends then runs inside
    // this vitest process, so the SIGKILL that stops it at the time limit (scripts/exercise.mjs)
    // ends the loop too; a forked worker would be left spinning with no parent.
    pool: 'threads',
  },
});
