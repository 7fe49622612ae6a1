// The exercises hold together: for each exercises/NAME/ (README.md, NAME.ts, cases.ts,
// solution/NAME.ts), every case passes against the reference solution and at least one
// fails against the starting code, so `npm run exercise NAME` (scripts/exercise.mjs) is
// red until the learner's work is right. Nothing here touches src/.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCases, type Exercise } from '../../exercises/harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = join(root, 'exercises');
const names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

describe('exercises', () => {
  it('there are at least six', () => {
    expect(names.length).toBeGreaterThanOrEqual(6);
  });

  for (const name of names) {
    describe(name, () => {
      it('has a README, a starting point, cases and a solution kept apart', () => {
        for (const f of ['README.md', `${name}.ts`, 'cases.ts', `solution/${name}.ts`]) {
          expect(existsSync(join(dir, name, f)), `exercises/${name}/${f}`).toBe(true);
        }
      });

      it('every case passes against the reference solution', async () => {
        const exercise = (await import(join(dir, name, 'cases.ts'))).default as Exercise<unknown>;
        const failures = await runCases(exercise, await import(join(dir, name, 'solution', `${name}.ts`)));
        expect(failures).toEqual([]);
      });

      it('some case fails against the starting code', async () => {
        const exercise = (await import(join(dir, name, 'cases.ts'))).default as Exercise<unknown>;
        const failures = await runCases(exercise, await import(join(dir, name, `${name}.ts`)));
        expect(failures.length, 'the starting code already passes every case').toBeGreaterThan(0);
      });
    });
  }
});
