#!/usr/bin/env node
// npm run exercise NAME [-- --solution]: runs the tests of exercises/NAME against your
// work (exercises/NAME/NAME.ts), or against the reference solution with --solution.
// Without NAME, lists the exercises: first the build-the-engine track in its order
// (exercises/track.txt), then the others.
// npm run exercise -- --check [NAME...]: for every exercise (or those named), checks that
// the starting code fails some case and the reference solution passes every case (by
// running test/docs/exercises.test.ts, in one vitest process).
// A run that does not finish within the time limit (--timeout=S, default 120 s: a loop in
// your code that never ends) is stopped, and the case it was in is named.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// EXERCISES_DIR: another folder of exercises (the tests of this script use a fixture)
const dir = process.env.EXERCISES_DIR ? resolve(root, process.env.EXERCISES_DIR) : join(root, 'exercises');
const all = readdirSync(dir, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'cases.ts')))
  .map((e) => e.name)
  .sort();
const track = (existsSync(join(dir, 'track.txt')) ? readFileSync(join(dir, 'track.txt'), 'utf8') : '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && all.includes(l));
const others = all.filter((n) => !track.includes(n));
const args = process.argv.slice(2);
const timeoutArg = args.find((a) => a.startsWith('--timeout='));
const timeoutS = timeoutArg ? Number(timeoutArg.slice('--timeout='.length)) : 120;
const named = args.filter((a) => !a.startsWith('-'));

function title(n) {
  return /^# (.*)$/m.exec(readFileSync(join(dir, n, 'README.md'), 'utf8'))?.[1] ?? '';
}

/** Runs exercise `name` against `target` ('work' or 'solution'); returns { ok, timedOut, stuckIn }. */
function run(name, target) {
  const tmp = mkdtempSync(join(tmpdir(), 'tl-exercise-'));
  const progress = join(tmp, 'case');
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const r = spawnSync(process.execPath, [vitest, 'run', '--config', join(root, 'exercises', 'vitest.config.ts')], {
    cwd: root,
    stdio: 'inherit',
    timeout: timeoutS * 1000,
    killSignal: 'SIGKILL',
    env: { ...process.env, EXERCISES_DIR: dir, EXERCISE: name, EXERCISE_TARGET: target, EXERCISE_PROGRESS: progress },
  });
  const timedOut = r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL';
  const stuckIn = existsSync(progress) ? readFileSync(progress, 'utf8') : '';
  rmSync(tmp, { recursive: true, force: true });
  return { ok: r.status === 0, timedOut, stuckIn };
}

function timeoutMessage(name, file, stuckIn) {
  return `\nexercise ${name}: stopped after ${timeoutS} s${stuckIn ? ` in case '${stuckIn}'` : ''}: ${file} did not return (a loop that never ends? a bound or an index that never reaches its limit?).`;
}

if (args.includes('--check')) {
  // One vitest process runs every exercise's cases in-process against the starting code and
  // the solution (test/docs/exercises.test.ts, which `npm test` runs too); -t keeps the named ones.
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const filter = named.length ? ['-t', named.map((n) => `exercises ${n} `).join('|')] : [];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [vitest, 'run', 'test/docs/exercises.test.ts', ...filter], {
    cwd: root, stdio: 'inherit', timeout: (timeoutArg ? timeoutS : 600) * 1000, killSignal: 'SIGKILL',
  });
  console.log(`exercise --check: ${r.status === 0 ? 'every starting point fails and every solution passes' : 'FAILED (see above)'} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  process.exit(r.status === 0 ? 0 : 1);
}

const name = named[0];
if (!name || !all.includes(name)) {
  if (name) console.error(`no exercise '${name}'.`);
  console.log('usage: npm run exercise NAME   (add -- --solution to run the reference solution; npm run exercise -- --check checks them all)\n');
  console.log('the build-the-engine track, in order (each task replaces one part of the engine with your code):');
  track.forEach((n, i) => console.log(`  ${String(i + 1).padStart(2)}. ${n.padEnd(16)} ${title(n)}`));
  console.log('\nother exercises:');
  for (const n of others) console.log(`      ${n.padEnd(16)} ${title(n)}`);
  process.exit(name ? 1 : 0);
}
const target = args.includes('--solution') ? 'solution' : 'work';
const r = run(name, target);
const rel = relative(root, join(dir, name));
if (r.timedOut) console.error(timeoutMessage(name, target === 'solution' ? `${rel}/solution/${name}.ts` : `${rel}/${name}.ts`, r.stuckIn));
process.exit(r.ok ? 0 : 1);
