// vitest's globalSetup: worker threads (the fast backend's pool, webgpu's device thread, the
// demo's jobs) and the CLI tests run the compiled dist/, not src/, so a test run after a
// source change without a build would test the old code and pass or fail for the wrong
// reason. Every src/ and bench/ file must have its dist/ twin, built after it; otherwise the
// run stops at once with one line naming the first stale file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

/** The .ts files (not .d.ts) under `dir`. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The first source file whose compiled twin is missing or older, with why; null when dist/ is up to date. */
export function staleDist(root = ROOT): string | null {
  // the folders tsconfig.json leaves out ("src/playground/page/**": the playground's own build)
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { exclude?: string[] };
  const excluded = (tsconfig.exclude ?? []).map((g) => g.replace(/\/\*\*$/, '/'));
  for (const top of ['src', 'bench']) {
    if (!existsSync(join(root, top))) continue;
    for (const src of sources(join(root, top))) {
      const rel = relative(root, src);
      if (excluded.some((x) => rel.startsWith(x))) continue;
      const js = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
      if (!existsSync(js)) return `dist/${relative(join(root, 'dist'), js)} is missing (${rel} was never built)`;
      if (statSync(js).mtimeMs < statSync(src).mtimeMs) return `${rel} changed after dist/${relative(join(root, 'dist'), js)} was built`;
    }
  }
  return null;
}

export default function setup(): void {
  const why = staleDist();
  if (why) throw new Error(`dist/ is stale: ${why}; run npm run build (worker threads and the CLI tests run dist/)`);
}
