// What a user gets from the package: `tl-scratch --version` is package.json's version (read
// from the package.json beside the running modules), `npm pack` ships the built CLI, the
// shipped model, the data subset, README and LICENSE and no tests, fixtures, benchmarks or
// scripts, and the packed tarball installed into a fresh project (offline: the dependencies'
// tarballs are in npm's cache after `npm ci`) runs with `npx tl-scratch` and finds its
// models/ and data/ inside the installed package.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './run.js';

const ROOT = resolve(__dirname, '../..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
  license: string;
  engines: Record<string, string>;
};
const SHIPPED_MODEL = 'models/vgg16-fashion8-w0.125-fc128.h5';

/**
 * npm (or npx) without the npm_* settings that `npm test` passes to its child processes. The
 * limit is generous: an offline npm ci of this project took 155 s on the shared 2-core
 * machine under load.
 */
function npm(args: string[], cwd: string, tool: 'npm' | 'npx' = 'npm') {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return spawnSync(tool, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
}

describe('the tl-scratch package', () => {
  it("--version prints package.json's version, read from the package.json beside the running modules", () => {
    const r = cli(['--version'], ROOT);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(PKG.version);
    // a copy of the built CLI under another package.json prints that one's version
    const pkg = mkdtempSync(join(tmpdir(), 'tl-version-'));
    cpSync(join(ROOT, 'dist', 'src'), join(pkg, 'dist', 'src'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ ...PKG, version: '9.8.7-test' }));
    const v = spawnSync(process.execPath, [join(pkg, 'dist', 'src', 'cli.js'), '-V'], { cwd: tmpdir(), encoding: 'utf8' });
    expect(v.stderr).toBe('');
    expect(v.stdout.trim()).toBe('9.8.7-test');
  });

  it('a fresh checkout: npm ci builds dist/ (the prepare script), then npx tl-scratch runs', (ctx) => {
    // the checkout: the files git has or would add (no dist/, no node_modules/)
    const ls = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
    if (ls.status !== 0) ctx.skip(); // not a git checkout (an unpacked package has dist/ already)
    const dir = mkdtempSync(join(tmpdir(), 'tl-checkout-'));
    for (const f of ls.stdout.split('\0').filter((f) => f && existsSync(join(ROOT, f)))) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      cpSync(join(ROOT, f), join(dir, f));
    }
    expect(existsSync(join(dir, 'dist'))).toBe(false);
    const install = npm(['ci', '--offline', '--no-audit', '--no-fund'], dir);
    if (install.status !== 0 && /ENOTCACHED/.test(install.stderr)) {
      console.warn(`skipped: npm's cache lacks a dependency's tarball (run npm ci first):\n${install.stderr}`);
      ctx.skip();
    }
    expect(install.status, install.stderr).toBe(0);
    expect(existsSync(join(dir, 'dist', 'src', 'cli.js'))).toBe(true);
    // npx runs the project's own bin (set up in npx's cache: a fresh one, not the user's)
    const v = npm(['--offline', '--cache', join(dir, '.npx-cache'), 'tl-scratch', '--version'], dir, 'npx');
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(PKG.version);
  }, 420_000);

  it('npm pack ships dist/src (the CLI and its types), the shipped model, the data subset, the PyTorch helpers (python/), README and LICENSE; no tests, fixtures, benchmarks or scripts', () => {
    // --ignore-scripts: prepare's build already ran (npm test's pretest); rebuilding dist/ here
    // would race the other CLI tests that run it
    const r = npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT);
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/src/cli.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/demo-worker.js', SHIPPED_MODEL, 'models/README.md', 'python/tl_vgg16.py', 'python/neon_hdf5.py', 'python/finetune.py']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('data/fashion-tshirt-shirt/')).sort()).toEqual(
      readdirSync(join(ROOT, 'data', 'fashion-tshirt-shirt')).map((f) => `data/fashion-tshirt-shirt/${f}`).sort(),
    );
    const unwanted = files.filter((f) => /^(test|bench|scripts|src|\.ci)\/|^dist\/(test|bench)\/|\.test\.|\.map$|^tsconfig|^vitest/.test(f));
    expect(unwanted).toEqual([]);
    expect(files.every((f) => /^(dist\/src|models|data)\/|^python\/[a-z0-9_]+\.py$|^dist\/playground\/(index\.html|style\.css|playground\.js|simd-worker\.js|webgpu-worker\.js)$|^(package\.json|README\.md|LICENSE)$/.test(f)), files.join('\n')).toBe(true);
    // the playground's page, built by npm run build
    for (const f of ['dist/playground/index.html', 'dist/playground/style.css', 'dist/playground/playground.js', 'dist/playground/simd-worker.js', 'dist/playground/webgpu-worker.js']) expect(files, f).toContain(f);
    // the bin and the entry points are in the package
    expect(files).toContain(PKG.bin['tl-scratch']);
  });

  it('the packed tarball, installed offline into a new project, runs with npx and finds its shipped model and data', async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-install-'));
    const pack = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
    expect(pack.status, pack.stderr).toBe(0);
    const tgz = (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename;
    expect(tgz).toBe(`tl-scratch-${PKG.version}.tgz`);
    // A project depending on the tarball, with a lockfile pinning the dependencies to the
    // versions of ours, so `npm ci --offline` takes their tarballs from npm's cache.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
    const packages: Record<string, unknown> = {
      '': { name: 'user-project', version: '1.0.0', dependencies: { 'tl-scratch': `file:${tgz}` } },
      'node_modules/tl-scratch': {
        version: PKG.version, resolved: `file:${tgz}`, license: PKG.license, dependencies: PKG.dependencies, bin: PKG.bin, engines: PKG.engines,
      },
    };
    for (const [k, v] of Object.entries(lock.packages)) if (k && !v.dev) packages[k] = v; // devOptional: shared with an optional dependency of ours (gpu.js → gl)
    // As the README advises a project that depends on tl-scratch: gpu.js' optional native `gl`
    // would otherwise compile for minutes wherever X11 development packages are installed.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, dependencies: { 'tl-scratch': `file:${tgz}` }, allowScripts: { gl: false } }));
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
    const install = npm(['ci', '--offline', '--no-audit', '--no-fund'], dir);
    if (install.status !== 0 && /ENOTCACHED/.test(install.stderr)) {
      console.warn(`skipped: npm's cache lacks a dependency's tarball (run npm ci first):\n${install.stderr}`);
      ctx.skip();
    }
    expect(install.status, install.stderr).toBe(0);
    const installed = join(dir, 'node_modules', 'tl-scratch');
    expect(readdirSync(installed).sort()).toEqual(['LICENSE', 'README.md', 'data', 'dist', 'models', 'package.json', 'python']);
    expect(readdirSync(join(installed, 'dist')).sort()).toEqual(['playground', 'src']);

    const npx = (args: string[]) => npm(['--offline', 'tl-scratch', ...args], dir, 'npx');
    const v = npx(['--version']);
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(PKG.version);
    // the built-in data set from the package's own data/
    mkdirSync(join(dir, 'work'));
    const prep = npx(['prepare', '--builtin', 'fashion-tshirt-shirt', '--out', 'work/fashion', '--per_class', '2', '--no_progress_bar']);
    expect(prep.stderr).toBe('');
    expect(prep.status).toBe(0);
    expect(readdirSync(join(dir, 'work', 'fashion')).sort()).toEqual(['test.h5', 'train.h5']);
    // the demo's source model from the package's own models/: its first line names the model it
    // found (it checks the file exists first); the run itself is covered in cli.test.ts
    const demo = spawn(process.execPath, [join(installed, 'dist', 'src', 'cli.js'), 'demo', '--seeds', '1', '-e', '1'], { cwd: join(dir, 'work'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    demo.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const first = await new Promise<string>((res) => {
      demo.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) res(out.split('\n')[0]!);
      });
      demo.on('close', () => res(out.split('\n')[0]!));
    });
    demo.kill('SIGKILL');
    expect(err).toBe('');
    expect(first).toContain(`(${join(installed, SHIPPED_MODEL)})`);
    // the playground from the installed package: its page and the shipped model, from 127.0.0.1
    const pg = spawn(process.execPath, [join(installed, 'dist', 'src', 'cli.js'), 'playground', '--port', '0', '--no-open'], { cwd: join(dir, 'work'), stdio: ['ignore', 'pipe', 'pipe'] });
    let pgOut = '';
    const url = await new Promise<string>((res, rej) => {
      pg.stdout.setEncoding('utf8').on('data', (d: string) => {
        pgOut += d;
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(pgOut);
        if (m) res(m[1]!);
      });
      pg.on('close', () => rej(new Error(`playground exited: ${pgOut}`)));
    });
    try {
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(`${url}playground.js`)).status).toBe(200);
      expect((await fetch(`${url}api/source`)).status).toBe(200);
    } finally {
      pg.kill('SIGKILL');
    }
  }, 420_000);
});
