// Code blocks of the guide (docs/guide/*.md) as runnable modules.
//
// The convention, stated for readers in docs/guide/README.md:
// - a block fenced ```ts runs under `npm test`; ```ts no-run is shown but not run (kept few);
// - blocks import the engine as a user would: 'tl-scratch' is the public API (src/index.ts),
//   and 'tl-scratch/<dir>/<file>.js' is the module src/<dir>/<file>.ts (layers, models,
//   optimizers, ... that the public API does not export yet);
// - blocks check what they claim with node's `assert` (import assert from 'node:assert/strict').
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface DocBlock {
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  run: boolean;
}

const FENCE = /^```(\S*)\s*(.*)$/;

/** The ```ts blocks of a Markdown file (other languages are ignored). */
export function tsBlocks(root: string, file: string): DocBlock[] {
  const lines = readFileSync(resolve(root, file), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = FENCE.exec(lines[i]!);
    if (!m) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    if (m[1] !== 'ts' && m[1] !== 'typescript') continue;
    blocks.push({ file, line: start + 1, code: body.join('\n'), run: !/\bno-run\b/.test(m[2]!) });
  }
  return blocks;
}

/** Rewrites the block's 'tl-scratch' imports to absolute paths of the source files. */
export function resolveImports(code: string, root: string): string {
  return code.replace(/(from\s+|import\s*\(\s*)(['"])tl-scratch(\/[^'"]*)?\2/g, (_all, lead: string, q: string, sub: string | undefined) => {
    const target = sub ? resolve(root, 'src', sub.slice(1).replace(/\.js$/, '.ts')) : resolve(root, 'src/index.ts');
    return `${lead}${q}${target}${q}`;
  });
}
