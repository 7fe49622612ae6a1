// The exercises hold together: for each exercises/NAME/ (README.md, NAME.ts, cases.ts,
// solution/NAME.ts), every case passes against the reference solution and at least one
// fails against the starting code, so `npm run exercise NAME` (scripts/exercise.mjs) is
// red until the learner's work is right: what `npm run exercise -- --check` verifies, run
// here in one process (the script starts two vitest runs per exercise). The build-the-engine
// track (exercises/track.txt) lists its tasks in order; a run whose code loops is stopped
// and names its case. Nothing here touches src/.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCases, type Exercise } from '../../exercises/harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = join(root, 'exercises');
const names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

const track = readFileSync(join(dir, 'track.txt'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const script = join(root, 'scripts', 'exercise.mjs');

describe('exercises', () => {
  it('there are at least six', () => {
    expect(names.length).toBeGreaterThanOrEqual(6);
  });

  it('the build-the-engine track has ten or more tasks, each an exercise whose README says its place', () => {
    expect(track.length).toBeGreaterThanOrEqual(10);
    track.forEach((n, i) => {
      expect(names, `track.txt names '${n}'`).toContain(n);
      expect(readFileSync(join(dir, n, 'README.md'), 'utf8'), `exercises/${n}/README.md`).toContain(`Track task ${i + 1} `);
    });
  });

  it('npm run exercise lists the track in order, then the other exercises', () => {
    const r = spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const listed = lines.map((l) => /^\s+\d+\. (\S+)/.exec(l)?.[1]).filter(Boolean);
    expect(listed).toEqual(track);
    for (const n of names.filter((x) => !track.includes(x))) expect(r.stdout).toContain(`  ${n} `);
  });

  it('a learner\'s code that never returns: the run is stopped after the time limit, naming the case', () => {
    const r = spawnSync(process.execPath, [script, 'loop', '--timeout=10'], {
      cwd: root, encoding: 'utf8', env: { ...process.env, EXERCISES_DIR: 'test/fixtures/exercises' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("exercise loop: stopped after 10 s in case 'counts to 3': test/fixtures/exercises/loop/loop.ts did not return");
    // and the loop stopped with it: no process of that run (its environment names the
    // exercise) is left spinning with no parent
    if (existsSync('/proc')) {
      const left = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
        try {
          return readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes('EXERCISE=loop');
        } catch {
          return false;
        }
      });
      expect(left, 'processes of the stopped run still alive').toEqual([]);
    }
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
