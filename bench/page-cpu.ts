// Opt-in (`npm run bench -- page-cpu`): the fast cpu backend in a page against Node, on the
// demo's training step (VGG-16 w1/8 fc128, 1×32×32, batch 10, SGD momentum; bench/demo.ts
// times the same step). The page is bench/browser-page.ts's runDemoStep, bundled with the
// browser entry and served from 127.0.0.1 with the playground's cross-origin isolation
// headers, in headless Chromium (Debian's chromium): the Node kernels on Web Workers. Node
// runs the step in this process on its worker threads, before and after the page. Both on
// 2 threads, in the same run. Skipped with one line when chromium is not installed.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Benchmark, Row } from './harness.js';
import { median } from './harness.js';
import type { DemoStepReport } from './browser-page.js';
import { ISOLATION_HEADERS } from '../src/playground/server.js';
import { generateVgg16TransferModel } from '../src/models/vgg16.js';
import { GradientDescentMomentum } from '../src/optim/index.js';
import { setBackend, setNumThreads } from '../src/kernels/index.js';
import { randomBatch, trainingStep } from './model-step.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
// dist/bench/ or bench/: the repository root holds scripts/ and bench/browser-page.ts
const ROOT = [resolve(import.meta.dirname, '..'), resolve(import.meta.dirname, '../..')].find((r) => existsSync(join(r, 'scripts/build-browser.mjs')))!;
const THREADS = 2, RUNS = 15, BSZ = 10;

/** The same step in Node, on the fast backend with THREADS threads. */
function nodeStep(): number[] {
  setBackend('cpu');
  setNumThreads(THREADS);
  const inShape = [1, 32, 32];
  const model = generateVgg16TransferModel({ widthMult: 0.125, fcSize: 128 });
  const opt = new GradientDescentMomentum(0.003, { momentumCoef: 0.9, wdecay: 0.0005 });
  const step = trainingStep(model, opt, inShape, randomBatch(BSZ, inShape, 2, 1));
  const first = model.layersToOptimize[0]!.params()[0]!;
  const seconds: number[] = [];
  for (let i = -2; i < RUNS; i++) {
    const t0 = performance.now();
    step();
    first.value.toHost();
    if (i >= 0) seconds.push((performance.now() - t0) / 1000);
  }
  return seconds;
}

export const pageCpuBench: Benchmark = {
  name: 'page-cpu',
  ids: [],
  title: 'the cpu backend in a page (headless Chromium, Web Workers) vs in Node (worker threads): the demo\'s training step, VGG-16 w1/8 fc128 1×32×32 batch 10, 2 threads',
  optIn: true,
  async run(log) {
    if (!CHROMIUM) {
      log('  skipped: no chromium (apt-get install chromium)');
      return [];
    }
    const { buildBrowserBundle } = (await import(join(ROOT, 'scripts/build-browser.mjs'))) as { buildBrowserBundle(entry: string, out: string): Promise<string> };
    const dir = mkdtempSync(join(tmpdir(), 'tl-bench-page-cpu-'));
    await buildBrowserBundle(join(ROOT, 'bench/browser-page.ts'), join(dir, 'page.js'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="page.js"></script>');
    const server = createServer((req, res) => {
      const name = (req.url ?? '/').split('?')[0]!.slice(1) || 'index.html';
      if (!/^[\w.-]+$/.test(name) || !existsSync(join(dir, name))) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': name.endsWith('.html') ? 'text/html' : 'text/javascript', ...ISOLATION_HEADERS }).end(readFileSync(join(dir, name)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { launch } = await import('puppeteer-core');
    const browser = await launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      await page.waitForFunction('typeof globalThis.runDemoStep === "function"', { timeout: 60_000 });
      // Node, the page, Node again: a change of the machine's load during the run falls on both sides.
      const node = nodeStep();
      const r = (await page.evaluate((t, n) => (globalThis as unknown as { runDemoStep(t: number, n: number): Promise<DemoStepReport> }).runDemoStep(t, n), THREADS, RUNS)) as DemoStepReport;
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
      node.push(...nodeStep());
      const pageMed = median(r.seconds), nodeMed = median(node);
      log(`  page: ${r.cpuLine}`);
      log(`  demo step, batch ${BSZ}: page ${(pageMed * 1000).toFixed(1)} ms, Node ${(nodeMed * 1000).toFixed(1)} ms (medians of ${RUNS} and ${node.length}; page / Node time ${(pageMed / nodeMed).toFixed(2)})`);
      const rows: Row[] = [{
        workload: `cpu backend in headless Chromium (${r.threads} threads: Web Workers), demo training step VGG-16 w1/8 fc128 1×32×32, batch ${BSZ}`,
        unit: 'img/s', ours: BSZ / pageMed, peer: `cpu backend in Node (${THREADS} threads: worker_threads)`, peerValue: BSZ / nodeMed,
      }];
      return rows;
    } finally {
      await browser.close();
      server.close();
    }
  },
};
