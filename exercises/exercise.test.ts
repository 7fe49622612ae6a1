// Runs one exercise's cases as vitest tests: `npm run exercise NAME` (scripts/exercise.mjs)
// sets EXERCISE=NAME, and EXERCISE_TARGET=solution to run the reference solution instead of
// your work in exercises/NAME/NAME.ts. Before each case it writes the case's name to
// $EXERCISE_PROGRESS (when set), so that the runner can say which case never finished when
// your code loops (it stops the run after a time limit).
import { afterAll, describe, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Exercise } from './harness.js';

const here = process.env.EXERCISES_DIR ?? dirname(fileURLToPath(import.meta.url));
const name = process.env.EXERCISE ?? '';
const target = process.env.EXERCISE_TARGET === 'solution' ? 'solution' : 'work';
const progress = process.env.EXERCISE_PROGRESS;
const dir = resolve(here, name);
if (!name || !existsSync(join(dir, 'cases.ts'))) throw new Error(`no exercise '${name}' (run: npm run exercise NAME; see exercises/README.md)`);
const exercise = (await import(join(dir, 'cases.ts'))).default as Exercise<unknown>;
const file = target === 'solution' ? join(dir, 'solution', `${name}.ts`) : join(dir, `${name}.ts`);
let impl: unknown;
let loadError: unknown = null;
try {
  impl = await import(file);
} catch (err) {
  loadError = err;
}

let failed = 0;
describe(`exercise ${name}: ${exercise.title} (${target === 'solution' ? 'reference solution' : `exercises/${name}/${name}.ts`})`, () => {
  for (const [title, c] of Object.entries(exercise.cases)) {
    it(title, async () => {
      if (progress) writeFileSync(progress, title);
      try {
        if (loadError) throw new Error(`loading ${file} failed: ${loadError instanceof Error ? loadError.message : String(loadError)}`);
        await c(impl);
      } catch (err) {
        failed++;
        throw err;
      }
    });
  }
  afterAll(() => {
    if (progress) writeFileSync(progress, '');
    if (failed === 0) console.log(`\ndone: every case of exercise ${name} passes${target === 'solution' ? ' (reference solution)' : ''}.${target === 'work' ? ' Compare with solution/ and go on to the next task (npm run exercise lists them in order).' : ''}\n`);
  });
});
