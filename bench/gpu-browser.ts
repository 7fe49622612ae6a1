// Opt-in (`npm run bench -- gpu-browser`): the GPU backend in headless Chromium (Debian's
// chromium, the flags of test/browser/webgl.test.ts: WebGL2 on SwiftShader, on the CPU)
// against the reference backend in the same page: gemm 512³ and the VGG-16 w1/16 fc16
// 3×32×32 batch-8 training step of bench/gpu.ts (bench/browser-page.ts runs in the page).
// Skipped with one line when chromium is not installed.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Benchmark, Row } from './harness.js';
import type { BrowserBenchReport } from './browser-page.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const FLAGS = ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
// dist/bench/ or bench/: the repository root holds scripts/ and bench/browser-page.ts
const ROOT = [resolve(import.meta.dirname, '..'), resolve(import.meta.dirname, '../..')].find((r) => existsSync(join(r, 'scripts/build-browser.mjs')))!;

export const gpuBrowserBench: Benchmark = {
  name: 'gpu-browser',
  ids: [],
  title: 'GPU backend in headless Chromium (WebGL2 on SwiftShader) vs the reference backend in the page: gemm 512³, VGG-16 w1/16 fc16 3×32×32 batch-8 training step',
  optIn: true,
  async run(log) {
    if (!CHROMIUM) {
      log('  skipped: no chromium (apt-get install chromium)');
      return [];
    }
    const { buildBrowserBundle } = (await import(join(ROOT, 'scripts/build-browser.mjs'))) as { buildBrowserBundle(entry: string, out: string): Promise<string> };
    const out = await buildBrowserBundle(join(ROOT, 'bench/browser-page.ts'), join(mkdtempSync(join(tmpdir(), 'tl-bench-browser-')), 'page.js'));
    const { launch } = await import('puppeteer-core');
    const browser = await launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto('about:blank');
      await page.addScriptTag({ content: readFileSync(out, 'utf8'), type: 'module' });
      await page.waitForFunction('typeof globalThis.runBench === "function"', { timeout: 30_000 });
      const r = (await page.evaluate('globalThis.runBench()')) as BrowserBenchReport;
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
      log(`  chromium: gpu.js mode ${r.mode}, renderer ${r.renderer}`);
      log(`  gemm ${r.gemm.n}³: gpu ${(r.gemm.gpu * 1000).toFixed(1)} ms, ${r.ref} ${(r.gemm.ref * 1000).toFixed(1)} ms (medians of 5)`);
      log(`  VGG step: gpu ${(r.step.gpu * 1000).toFixed(1)} ms, ${r.ref} ${(r.step.ref * 1000).toFixed(1)} ms (medians of 7)`);
      const flop = 2 * r.gemm.n ** 3;
      const rows: Row[] = [
        { workload: `gpu backend (chromium ${r.mode}) gemm ${r.gemm.n}³ f32`, unit: 'GFLOP/s', ours: flop / r.gemm.gpu / 1e9, peer: `${r.ref} backend in the page`, peerValue: flop / r.gemm.ref / 1e9 },
        { workload: `gpu backend (chromium ${r.mode}) VGG-16 w1/16 fc16 32² training step, batch ${r.step.bsz}`, unit: 'img/s', ours: r.step.bsz / r.step.gpu, peer: `${r.ref} backend in the page`, peerValue: r.step.bsz / r.step.ref },
      ];
      return rows;
    } finally {
      await browser.close();
    }
  },
};
