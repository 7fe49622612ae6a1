#!/usr/bin/env node
// npm run exercise NAME [-- --solution]: runs the tests of exercises/NAME against your
// work (exercises/NAME/NAME.ts), or against the reference solution with --solution.
// Without NAME, lists the exercises.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'exercises');
const names = readdirSync(dir, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'cases.ts')))
  .map((e) => e.name)
  .sort();
const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith('-'));
if (!name || !names.includes(name)) {
  if (name) console.error(`no exercise '${name}'.`);
  console.log('usage: npm run exercise NAME   (add -- --solution to run the reference solution)\n\nexercises:');
  for (const n of names) {
    const title = /^# (.*)$/m.exec(readFileSync(join(dir, n, 'README.md'), 'utf8'))?.[1] ?? '';
    console.log(`  ${n.padEnd(16)} ${title}`);
  }
  process.exit(name ? 1 : 0);
}
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', '--config', join(dir, 'vitest.config.ts')], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, EXERCISE: name, EXERCISE_TARGET: args.includes('--solution') ? 'solution' : 'work' },
});
process.exit(r.status ?? 1);
