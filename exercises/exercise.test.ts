// Runs one exercise's cases as vitest tests: `npm run exercise NAME` (scripts/exercise.mjs)
// sets EXERCISE=NAME, and EXERCISE_TARGET=solution to run the reference solution instead of
// your work in exercises/NAME/NAME.ts.
import { describe, it } from 'vitest';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Exercise } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const name = process.env.EXERCISE ?? '';
const target = process.env.EXERCISE_TARGET === 'solution' ? 'solution' : 'work';
const dir = resolve(here, name);
if (!name || !existsSync(join(dir, 'cases.ts'))) throw new Error(`no exercise '${name}' (run: npm run exercise NAME; see exercises/README.md)`);
const exercise = (await import(join(dir, 'cases.ts'))).default as Exercise<unknown>;
const impl: unknown = await import(target === 'solution' ? join(dir, 'solution', `${name}.ts`) : join(dir, `${name}.ts`));

describe(`exercise ${name}: ${exercise.title} (${target === 'solution' ? 'reference solution' : `exercises/${name}/${name}.ts`})`, () => {
  for (const [title, c] of Object.entries(exercise.cases)) it(title, () => c(impl));
});
