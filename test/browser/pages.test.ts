// The engine's page backends in headless Chromium (Debian's `chromium`, puppeteer-core; no
// downloaded browser), the page served from 127.0.0.1 (navigator.gpu is absent on
// about:blank):
//   - cross-origin isolated (the playground server's COOP/COEP headers): `cpu` is the fast
//     backend on Web Workers and `webgpu` runs on navigator.gpu (SwiftShader's WebGPU here,
//     on the CPU); the conformance suite (test/kernels/conformance.test.ts itself) passes on
//     both, and a reduced VGG-16 trains to `ref`'s loss and weights within 1e-4 on both;
//   - without those headers: no SharedArrayBuffer, so `cpu` is the reference kernels and the
//     page's line says why in one line.
// Where chromium is installed and WebGPU gives no adapter, the test fails (it does not skip).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Browser } from 'puppeteer-core';
import type { PageReport } from './pages-page.js';
import { ISOLATION_HEADERS } from '../../src/playground/server.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
// No sandbox as root; WebGPU (and WebGL) on SwiftShader, Chromium's CPU renderer.
const FLAGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
const ROOT = resolve(import.meta.dirname, '../..');

/** The conformance suite's imports as a page has them: vitest's API on vitest-page.ts, the page's backends, the browser entry for src/index.ts. */
const pageTestModules = {
  name: 'page-test-modules',
  setup(b: { onResolve(o: { filter: RegExp }, f: (a: { importer: string }) => { path: string } | undefined): void }) {
    b.onResolve({ filter: /^vitest$/ }, () => ({ path: join(ROOT, 'test/browser/vitest-page.ts') }));
    b.onResolve({ filter: /\/helpers\/backends\.js$/ }, () => ({ path: join(ROOT, 'test/browser/page-backends.ts') }));
    b.onResolve({ filter: /\/src\/index\.js$/ }, (a) => (a.importer.includes(`${'/'}test${'/'}`) ? { path: join(ROOT, 'src/browser/index.ts') } : undefined));
  },
};

/** Serves `dir` on 127.0.0.1: /iso/NAME with the isolation headers, /plain/NAME without. */
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const m = /^\/(iso|plain)\/([\w.-]+)/.exec(req.url ?? '');
    const file = m && join(dir, m[2]!);
    if (!m || !existsSync(file!)) {
      res.writeHead(404).end();
      return;
    }
    const type = file!.endsWith('.html') ? 'text/html' : 'text/javascript';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', ...(m[1] === 'iso' ? ISOLATION_HEADERS : {}) });
    res.end(readFileSync(file!));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${a.port}` };
}

describe.skipIf(!CHROMIUM)('the page backends in headless Chromium (fast cpu on Web Workers, webgpu on SwiftShader)', () => {
  let browser: Browser;
  let server: Server;
  let iso: PageReport;
  let plain: PageReport;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // @ts-expect-error: a plain .mjs build script without type declarations
    const { buildBrowserBundle } = await import('../../scripts/build-browser.mjs');
    const dir = mkdtempSync(join(tmpdir(), 'tl-pages-'));
    const out = await buildBrowserBundle(join(ROOT, 'test/browser/pages-page.ts'), join(dir, 'page.js'), [pageTestModules]);
    (await import('node:fs')).writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="${basename(out)}"></script>`);
    let url: string;
    ({ server, url } = await serve(dir));
    const { launch } = await import('puppeteer-core');
    browser = await launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    const open = async (path: string, o: object): Promise<PageReport> => {
      const page = await browser.newPage();
      page.on('pageerror', (e) => pageErrors.push(`${path}: ${String(e)}`));
      page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`${path}: console: ${m.text()}`); });
      await page.goto(`${url}${path}`);
      await page.waitForFunction('typeof globalThis.runPage === "function"', { timeout: 120_000 });
      return (await page.evaluate((o) => (globalThis as unknown as { runPage(o: object): Promise<PageReport> }).runPage(o), o)) as PageReport;
    };
    iso = await open('/iso/index.html?backends=cpu,webgpu&threads=2', { vgg: ['cpu', 'webgpu'] });
    plain = await open('/plain/index.html?backends=cpu&webgpu=0', { filter: 'backend cpu > gemm' });
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('isolated: cpu is the fast backend on 2 threads, and a gemm large enough to be split runs partly on the Web Workers, within float32\'s bound of the exact product', () => {
    expect(pageErrors).toEqual([]);
    expect(iso.isolated).toBe(true);
    expect(iso.started.fast).toBe(true);
    expect(iso.started.threads).toBe(2);
    expect(iso.started.cpuLine).toMatch(/^cpu: the fast backend \(WebAssembly SIMD, 2 threads/);
    expect(iso.backends.find((b) => b.name === 'cpu')!.description).toMatch(/WebAssembly SIMD gemm/);
    expect(iso.gemm.helperTasks).toBeGreaterThan(0);
    expect(iso.gemm.worst).toBeLessThanOrEqual(160 * 2 ** -24);
  });

  it('isolated: webgpu starts on navigator.gpu (an adapter is required where chromium is installed)', () => {
    expect(iso.started.webgpuLine).toMatch(/^webgpu: adapter /);
    expect(iso.started.webgpu).not.toBeNull();
    expect(iso.backends.map((b) => b.name)).toContain('webgpu');
  });

  it.each(['cpu', 'webgpu'])('the conformance suite passes on the page\'s %s backend', (name) => {
    const mine = iso.tests.filter((t) => t.name.startsWith(`backend ${name} `));
    expect(mine.length).toBeGreaterThanOrEqual(20); // both parts of the suite: the kernel checks and the random shapes against ref
    expect(mine.some((t) => t.name.includes('against the reference backend'))).toBe(true);
    expect(mine.filter((t) => !t.ok).map((t) => `${t.name}: ${t.error}`)).toEqual([]);
  });

  it.each(['cpu', 'webgpu'])('a reduced VGG-16 trains on the page\'s %s backend to ref\'s loss and weights within 1e-4', (name) => {
    const v = iso.vgg.find((r) => r.name === name)!;
    expect(v.params).toBeGreaterThan(20);
    expect(Math.abs(v.loss - v.lossRef)).toBeLessThanOrEqual(1e-4 * Math.abs(v.lossRef));
    expect(v.worstWeight).toBeLessThanOrEqual(1e-4);
  });

  it('not isolated: no SharedArrayBuffer, so cpu is the reference kernels, and one line says why and what the server must send', () => {
    expect(plain.isolated).toBe(false);
    expect(plain.started.fast).toBe(false);
    expect(plain.started.cpuLine).toMatch(/^cpu: the reference kernels, since the fast backend needs what this page lacks: SharedArrayBuffer .*Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/);
    expect(plain.started.cpuLine).not.toContain('\n');
    expect(plain.backends.find((b) => b.name === 'cpu')!.description).toMatch(/reference kernels/);
    // and it computes: the gemm checks of the suite on that cpu, and the large gemm against ref
    const mine = plain.tests.filter((t) => t.name.startsWith('backend cpu '));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.filter((t) => !t.ok)).toEqual([]);
    expect(plain.gemm.worst).toBeLessThanOrEqual(160 * 2 ** -24);
  });
});
