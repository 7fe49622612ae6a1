// The README's "Your own images" walk: every tl-scratch command it shows uses flags its
// subcommand has (--help lists them), and the script it starts from writes the folder it names.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli.js');

/** The sh blocks of the README section `title`, continuation lines joined. */
function sectionCommands(title: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(`## ${title}\n`);
  if (at < 0) throw new Error(`README.md has no '## ${title}'`);
  const end = readme.indexOf('\n## ', at + 1);
  const body = readme.slice(at, end < 0 ? undefined : end);
  return [...body.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.replace(/\\\n\s*/g, '').split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

describe("README: 'Your own images'", () => {
  const commands = sectionCommands('Your own images');

  it('every tl-scratch command uses flags of its subcommand', () => {
    const tl = commands.filter((c) => c.startsWith('npx tl-scratch '));
    expect(tl.map((c) => c.split(/\s+/)[2])).toEqual(['train', 'train', 'eval', 'predict']);
    for (const c of tl) {
      const [, , sub, ...args] = c.split(/\s+/);
      const help = spawnSync(process.execPath, [CLI, sub!, '--help'], { encoding: 'utf8' }).stdout;
      for (const flag of args.filter((a) => a.startsWith('-'))) expect(help, `${sub} ${flag}`).toMatch(new RegExp(`(^|[ ,])${flag}[ ,<]`, 'm'));
    }
  });

  it('the walk starts from the folder scripts/make-image-folder.mjs writes', () => {
    const make = commands.find((c) => c.startsWith('node scripts/make-image-folder.mjs'))!;
    const [, script, folder, n] = make.split(/\s+/);
    const dir = mkdtempSync(join(tmpdir(), 'tl-walk-'));
    const r = spawnSync(process.execPath, [join(ROOT, script!), join(dir, folder!), n!], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(readdirSync(join(dir, folder!)).sort()).toEqual(['shirt', 'tshirt']);
    expect(readdirSync(join(dir, folder!, 'shirt'))).toHaveLength(Number(n));
  });
});
