// Small files, one concept each: a source file over 400 lines must say why in its first
// comment (a line containing "Over 400 lines because"), as src/formats/pickle/machine.ts
// does for its opcode switch. Anything else that grows past it is split by concern.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '../..');
const LIMIT = 400;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : name.endsWith('.ts') ? [p] : [];
  });
}

/** The file's opening comment: its leading lines that are // comments. */
function firstComment(text: string): string {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('//')) break;
    lines.push(line.replace(/^\/\/\/?\s?/, ''));
  }
  return lines.join(' ');
}

/** Files over the limit whose first comment gives no reason. */
function oversized(files: { path: string; text: string }[]): string[] {
  return files
    .filter(({ text }) => text.split('\n').length > LIMIT && !/Over 400 lines because/.test(firstComment(text)))
    .map(({ path, text }) => `${path}: ${text.split('\n').length} lines and no "Over 400 lines because" in its first comment`);
}

describe('file size', () => {
  it(`every file in src/ over ${LIMIT} lines says why in its first comment`, () => {
    const files = sources(join(root, 'src')).map((p) => ({ path: relative(root, p), text: readFileSync(p, 'utf8') }));
    expect(oversized(files)).toEqual([]);
  });

  it('the check fails on a long file without a reason and passes with one', () => {
    const body = 'x;\n'.repeat(LIMIT + 1);
    expect(oversized([{ path: 'a.ts', text: `// A long file.\n${body}` }])).toHaveLength(1);
    expect(oversized([{ path: 'b.ts', text: `// The machine. Over 400 lines because\n// the switch reads best whole.\n${body}` }])).toEqual([]);
    expect(oversized([{ path: 'c.ts', text: `// Short.\n${'x;\n'.repeat(10)}` }])).toEqual([]);
  });
});
