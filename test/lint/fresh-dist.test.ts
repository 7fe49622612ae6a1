// The globalSetup that refuses a stale dist/ (test/setup/fresh-dist.ts): a source file newer
// than its compiled twin, or without one, is named; excluded folders are not checked.
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleDist } from '../setup/fresh-dist.js';

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'tl-dist-'));
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ exclude: ['src/page/**'] }));
  for (const d of ['src/page', 'dist/src', 'bench', 'dist/bench']) mkdirSync(join(root, d), { recursive: true });
  const at = (p: string, text: string, seconds: number) => {
    writeFileSync(join(root, p), text);
    utimesSync(join(root, p), seconds, seconds);
  };
  at('src/a.ts', 'x', 1000);
  at('src/types.d.ts', 'x', 5000); // declarations compile to nothing
  at('src/page/ui.ts', 'x', 5000); // excluded: built by another step
  at('bench/b.ts', 'x', 1000);
  at('dist/src/a.js', 'x', 2000);
  at('dist/bench/b.js', 'x', 2000);
  return root;
}

describe('a stale dist/ is refused', () => {
  it('up to date: null; a source changed after its build, or never built: named', () => {
    const root = tree();
    expect(staleDist(root)).toBeNull();
    utimesSync(join(root, 'src/a.ts'), 3000, 3000);
    expect(staleDist(root)).toBe('src/a.ts changed after dist/src/a.js was built');
    utimesSync(join(root, 'src/a.ts'), 1000, 1000);
    writeFileSync(join(root, 'bench/new.ts'), 'x');
    expect(staleDist(root)).toBe('dist/bench/new.js is missing (bench/new.ts was never built)');
  });
});
