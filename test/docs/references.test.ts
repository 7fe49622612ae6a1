// The project stands on its own: no source, test, script or document points at material a
// user of the project does not have (the team's working notes outside the repository).
// Facts from there live in docs/ (docs/neon-notes.md, docs/perf-baseline.md) or cite neon's
// own source files.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Built from pieces so that this file does not match itself.
const FORBIDDEN = [['..', 'shared', ''].join('/'), ['shared', 'docs'].join('/'), ['shared', 'seed'].join('/'), ['neon', 'spec'].join('-')];
const TEXT = /\.(ts|mts|mjs|js|md|py|json|txt)$/;

function files(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' || e.name.startsWith('.') ? [] : files(p);
    return TEXT.test(e.name) ? [p] : [];
  });
}

describe('references outside the project', () => {
  const all = [...['src', 'test', 'bench', 'scripts', 'docs', 'exercises', 'models'].flatMap(files), 'README.md', 'package.json'];
  it('no file names the team notes folder or its spec', () => {
    const hits: string[] = [];
    for (const f of all) {
      const lines = readFileSync(join(root, f), 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const s of FORBIDDEN) if (line.includes(s)) hits.push(`${f}:${i + 1}: ${s}`);
      });
    }
    expect(hits).toEqual([]);
  });
});
