// The guide's examples run: every ```ts block of docs/guide/*.md is written out as a module
// (its 'tl-scratch' imports pointed at src/, see blocks.ts) and imported, so a block that
// throws or whose assert fails fails this test; the blocks are also type-checked. Also
// checked: every relative link in docs/ points at a file that exists, and blocks marked
// no-run stay few.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveImports, tsBlocks, type DocBlock } from './blocks.js';
import { manualSeed } from '../../src/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const guideDir = 'docs/guide';
const outDir = resolve(root, '.cache/doc-blocks');

function markdownFiles(dir: string): string[] {
  return readdirSync(resolve(root, dir), { withFileTypes: true }).flatMap((e) => {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) return markdownFiles(p);
    return e.name.endsWith('.md') ? [p] : [];
  });
}

const chapters = markdownFiles(guideDir).sort();
const blocks: DocBlock[] = chapters.flatMap((f) => tsBlocks(root, f));

// Every runnable block as a module file (written when the tests are collected), and a
// tsconfig that type-checks them with the project's settings.
// Start empty: blocks from an earlier run (other chapters, other line numbers) would be type-checked too.
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const runnable = blocks.filter((b) => b.run).map((b) => {
  const path = join(outDir, `${b.file.replace(/[^A-Za-z0-9]+/g, '_')}_${b.line}.ts`);
  writeFileSync(path, `// Generated from ${b.file}:${b.line} by test/docs/guide.test.ts\n${resolveImports(b.code, root)}\nexport {};\n`);
  return { ...b, path };
});
writeFileSync(join(outDir, 'tsconfig.json'), JSON.stringify({
  extends: '../../tsconfig.json',
  compilerOptions: { noEmit: true, allowImportingTsExtensions: true, rootDir: '../..', noUnusedLocals: false },
  include: ['*.ts'],
}, null, 2));

describe('the guide', () => {
  it('has chapters with runnable examples', () => {
    expect(chapters.length).toBeGreaterThanOrEqual(9);
    expect(runnable.length).toBeGreaterThanOrEqual(15);
  });

  it('marks few blocks no-run', () => {
    const skipped = blocks.filter((b) => !b.run).map((b) => `${b.file}:${b.line}`);
    expect(skipped.length, skipped.join(', ')).toBeLessThanOrEqual(3);
  });

  for (const b of runnable) {
    it(`example at ${b.file}:${b.line} runs`, async () => {
      manualSeed(0);
      await import(b.path);
    });
  }

  it('every example type-checks (tsc with the project\'s settings)', () => {
    const tsc = resolve(root, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(outDir, 'tsconfig.json')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout + r.stderr, 'type errors in the guide\'s examples (file names give chapter and line)').toBe('');
    expect(r.status).toBe(0);
  });
});

describe('links in docs/', () => {
  const files = [...markdownFiles('docs'), 'exercises/README.md', ...readdirSync(resolve(root, 'exercises'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(resolve(root, 'exercises', e.name, 'README.md')))
    .map((e) => `exercises/${e.name}/README.md`)];
  for (const f of files) {
    it(`every relative link of ${f} exists`, () => {
      const text = readFileSync(resolve(root, f), 'utf8');
      const missing: string[] = [];
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
        const path = resolve(root, dirname(f), decodeURIComponent(target.split('#')[0]!));
        if (!existsSync(path)) missing.push(target);
      }
      expect(missing, `broken links in ${f}`).toEqual([]);
    });
  }
});
