// The README's transfer-learning program, taken from README.md itself (the ```js block after
// the marker <!-- readme-program: transfer -->) and run with Node against the built package,
// from the repository root, as a reader would: it cannot rot without this test failing.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** The code block following `<!-- readme-program: NAME -->` in README.md. */
export function readmeProgram(name: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const marker = `<!-- readme-program: ${name} -->`;
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no '${marker}'`);
  const m = /```(?:js|ts|javascript)\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!m) throw new Error(`README.md: no code block after '${marker}'`);
  return m[1]!;
}

describe('README program', () => {
  it('is about twenty lines and imports only from the package entry', () => {
    const code = readmeProgram('transfer');
    const lines = code.trim().split('\n').filter((l) => l.trim() && !l.trim().startsWith('//'));
    expect(lines.length).toBeLessThanOrEqual(22);
    expect([...code.matchAll(/from '([^']+)'/g)].map((m) => m[1])).toEqual(['tl-scratch']);
  });

  it('imports the shipped source model, builds the transfer model, trains and evaluates', () => {
    // Inside the package folder so that 'tl-scratch' resolves to this package (self-reference).
    const dir = join(ROOT, '.cache', `readme-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'transfer.mjs');
    writeFileSync(file, readmeProgram('transfer'));
    try {
      const r = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const m = /^imported 26 layers; test accuracy (\d+\.\d)%$/m.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(50); // better than chance on T-shirt vs Shirt
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
