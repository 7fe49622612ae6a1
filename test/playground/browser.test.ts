// The playground in a real browser: headless Chromium (Debian's `chromium`, driven by
// puppeteer-core, as test/browser/webgl.test.ts; WebGL2 on SwiftShader, no GPU here) loads
// the page from the local server and
//   - runs finetune on the built-in data on the ref backend (the reference kernels) and
//     gets the CLI's test accuracy for the same seed and settings: `tl-scratch demo` runs
//     the same code path on the cpu backend of Node (WebAssembly SIMD kernels, which differ
//     from the reference kernels in the last bits of a sum), so the test compares the
//     accuracy as a count of correct test images and the final cost to the CLI's 3 decimals;
//   - runs on the gpu backend (gpu.js WebGL2) on a dropped folder (test/fixtures/data/folder:
//     undecodable files listed and skipped), and keeps working after a backend failure;
//   - shows the curves, the import report, feature maps and one training step (with its head's autograd graph);
//   - requests nothing from any host but the local server;
//   - saves screenshots: into a temporary folder, or with TL_UPDATE_SCREENSHOTS=1 into
//     docs/images/playground-*.png, the ones the README shows (a test run leaves the
//     working tree as it was).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Server } from 'node:http';
import type { Browser, Page } from 'puppeteer-core';
import { startPlaygroundServer } from '../../src/playground/server.js';
import { cliAsync } from '../cli/run.js';

// These callbacks run in the page; the test program has Node's types, not the DOM's.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Dom = any;
declare const document: Dom, window: Dom;

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const FLAGS = ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
const ROOT = resolve(import.meta.dirname, '../..');
const SHOTS = process.env.TL_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs/images') : mkdtempSync(join(tmpdir(), 'tl-playground-shots-'));
// The comparison run: small enough for a test, the demo's settings otherwise.
const SEED = 0, PER_CLASS = 5, EPOCHS = 2;

interface PageResult { experiment: string; testAccuracy: number; testCorrect: number; testCount: number; finalCost: number; backend: string; history: { epoch: number; trainCost: number; evalAccuracy?: number }[] }
type Hook = { results(): PageResult[]; useFiles(f: { path: string; file: Blob }[]): Promise<{ problem: string | null; skipped: { path: string; why: string }[]; counts: Record<string, number> }> };

/** Files under `dir` as [path relative to dir's parent, base64]. */
function folderFiles(dir: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push([relative(join(dir, '..'), p), readFileSync(p).toString('base64')]);
    }
  };
  walk(dir);
  return out;
}

/** The CLI's demo run with the comparison settings: its printed finetune line and the correct count from its inference file. */
async function cliDemo(): Promise<{ line: string; correct: number; total: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tl-pg-demo-'));
  const child = cliAsync(['demo', '--seeds', '1', '--epochs', String(EPOCHS), '--train_per_class', String(PER_CLASS), '--eval_every', '0', '--report_dir', 'report'], dir);
  let out = '', err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise<number | null>((res) => child.on('exit', res));
  if (code !== 0) throw new Error(`tl-scratch demo failed (${code}): ${err}`);
  const line = out.split('\n').find((l) => /\] finetune\s+seed 0: test accuracy/.test(l))!;
  let correct = 0, total = 0;
  for (const row of readFileSync(join(dir, 'report', `inference_finetune_seed${SEED}.txt`), 'utf8').trim().split('\n').slice(1)) {
    const m = /^\[(.*)\], (\d+)$/.exec(row)!;
    const v = m[1]!.split(', ').map(Number);
    if (v.indexOf(Math.max(...v)) === Number(m[2])) correct++;
    total++;
  }
  return { line, correct, total };
}

async function setSettings(page: Page, s: { experiments: string[]; backend: string; perClass?: number; epochs: number; evalEvery: number; data: 'builtin' | 'folder' }): Promise<void> {
  await page.evaluate((s) => {
    for (const c of document.querySelectorAll('input[name=exp]') as Dom[]) c.checked = s.experiments.includes(c.value);
    document.querySelector(`input[name=data][value=${s.data}]`)!.checked = true;
    const set = (id: string, v: number | undefined) => { if (v !== undefined) document.querySelector(`#${id}`)!.value = String(v); };
    set('seed', 0);
    set('per-class', s.perClass);
    set('epochs', s.epochs);
    set('eval-every', s.evalEvery);
  }, s);
  await page.select('#backend', s.backend);
}

/**
 * How long a run may take: finetune on the page's ref backend evaluates the 2000 test
 * images twice with ref's direct convolution (the textbook, several times slower than the
 * cpu backend's), on one thread.
 */
const RUN_TIMEOUT = 300_000;

/** Clicks Run and waits for the run to end; returns the status line. */
async function run(page: Page): Promise<string> {
  await page.click('#run');
  await page.waitForFunction(() => !document.querySelector('#run')!.disabled, { timeout: RUN_TIMEOUT, polling: 200 });
  return page.$eval('#run-status', (e) => e.textContent ?? '');
}

describe.skipIf(!CHROMIUM)('the playground in headless Chromium', () => {
  let server: Server;
  let url: string;
  let browser: Browser;
  let page: Page;
  const foreign: string[] = [];
  const pageErrors: string[] = [];
  let cli: Promise<Awaited<ReturnType<typeof cliDemo>>>;

  beforeAll(async () => {
    cli = cliDemo(); // runs alongside the page's runs
    cli.catch(() => {});
    // @ts-expect-error: a plain .mjs build script without type declarations
    const { buildPlayground } = await import('../../scripts/build-playground.mjs');
    const dir = await buildPlayground(mkdtempSync(join(tmpdir(), 'tl-playground-')));
    ({ server, url } = await startPlaygroundServer({ port: 0, staticDir: dir }));
    const { launch } = await import('puppeteer-core');
    browser = await launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('request', (r) => { if (!r.url().startsWith(url) && !/^(data|blob):/.test(r.url())) foreign.push(r.url()); });
    await page.goto(url);
    await page.waitForFunction(() => !document.querySelector('#backend-line')!.textContent!.includes('starting'), { timeout: 30_000 });
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('shows the backend: gpu.js in WebGL2, and says SwiftShader is not a real GPU', async () => {
    const line = await page.$eval('#backend-line', (e) => e.textContent);
    expect(line).toMatch(/^backend: gpu: gpu\.js webgl2 \(.*software rasterizer.*slower than a real GPU\)/);
    expect(await page.$eval('#backend', (e) => (e as Dom).value)).toBe('gpu');
  });

  it('without WebGL the page falls back to the ref backend and says why', async () => {
    const { launch } = await import('puppeteer-core');
    const noGl = await launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-webgl', '--disable-3d-apis'] });
    try {
      const p = await noGl.newPage();
      await p.goto(url);
      await p.waitForFunction(() => !document.querySelector('#backend-line').textContent.includes('starting'), { timeout: 30_000 });
      expect(await p.$eval('#backend-line', (e) => e.textContent)).toMatch(/^backend: ref: the reference kernels \(gpu\.js found no WebGL here, only its \w+ mode\)$/);
      expect(await p.$eval('#backend', (e: Dom) => [e.value, e.querySelector('option[value=gpu]').disabled])).toEqual(['ref', true]);
    } finally {
      await noGl.close();
    }
  });

  it('the drop zone is a keyboard control: Tab reaches it, Enter opens the folder picker', async () => {
    // (puppeteer's file-chooser interception does not see directory pickers: the input's click is recorded instead)
    await page.evaluate(() => {
      const input = document.querySelector('#folder-input');
      input.click = () => { (globalThis as Dom).pickerOpened = input.webkitdirectory; };
    });
    await page.focus('input[name=data][value=folder]');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('drop');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => (globalThis as Dom).pickerOpened)).toBe(true);
  });

  it('a folder with no class or one class explains what is needed', async () => {
    const use = (files: [string, string][]) => page.evaluate(async (files) => {
      const hook = (globalThis as unknown as { playground: Hook }).playground;
      const r = await hook.useFiles(files.map(([path, b64]) => ({ path, file: new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]) })));
      return { problem: r.problem, shown: document.querySelector('#folder-status')!.textContent };
    }, files);
    const empty = await use([]);
    expect(empty.problem).toMatch(/^the dropped folder is empty; drop a folder with one subfolder per class \(at least two classes\)/);
    const loose = await use([['x.png', folderFiles(join(ROOT, 'test/fixtures/data/folder_empty'))[0]![1]]]);
    expect(loose.problem).toMatch(/^the folder has no class subfolder with a decodable image; transfer learning here needs a folder with one subfolder per class/);
    expect(loose.shown).toContain('x.png: not inside a class subfolder');
    const one = await use(folderFiles(join(ROOT, 'test/fixtures/data/folder_empty')));
    expect(one.problem).toMatch(/^the folder has only one class \(a\); transfer learning here needs a folder with one subfolder per class/);
    expect(one.shown).toContain('folder_empty/b/readme.txt: the browser cannot decode it as an image');
    // Run refuses with the same message, and the page stays usable.
    await setSettings(page, { experiments: ['finetune'], backend: 'gpu', epochs: 1, evalEvery: 1, data: 'folder' });
    expect(await run(page)).toMatch(/^the folder has only one class/);
  });

  it('a dropped folder: undecodable files are listed and skipped; a backend failure mid-run stops the run with a message and the page runs again after it', async () => {
    // The class folders dropped together (no parent folder) read the same.
    const classes = await page.evaluate(async (files) => {
      const hook = (globalThis as unknown as { playground: Hook }).playground;
      return hook.useFiles(files.map(([path, b64]) => ({ path: path.replace(/^folder\//, ''), file: new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]) })));
    }, folderFiles(join(ROOT, 'test/fixtures/data/folder')));
    expect(classes.counts).toEqual({ a_red: 5, b_blue: 4 });
    const r = await page.evaluate(async (files) => {
      const hook = (globalThis as unknown as { playground: Hook }).playground;
      return hook.useFiles(files.map(([path, b64]) => ({ path, file: new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]) })));
    }, folderFiles(join(ROOT, 'test/fixtures/data/folder')));
    expect(r.problem).toBeNull();
    expect(r.counts).toEqual({ a_red: 5, b_blue: 4 });
    expect(r.skipped.map((s) => s.path).sort()).toEqual(['folder/b_blue/broken.png', 'folder/b_blue/notes.txt']);
    expect(await page.$eval('#folder-status', (e) => e.textContent)).toMatch(/skipped 2 files:.*folder\/b_blue\/broken\.png: the browser cannot decode it as an image/);

    // The gpu backend's convolution fails after a while, as a lost GL context would.
    await page.evaluate(() => {
      const gpu = (globalThis as unknown as { playground: { backends(): Record<string, unknown>[] } }).playground.backends().find((b) => b.name === 'gpu')!;
      const conv = gpu.conv2dForward as (...a: unknown[]) => unknown;
      let n = 0;
      gpu.conv2dForward = (...a: unknown[]) => { if (++n > 20) throw new Error('simulated loss of the WebGL context'); return conv(...a); };
      (globalThis as unknown as { restoreConv: () => void }).restoreConv = () => { gpu.conv2dForward = conv; };
    });
    await setSettings(page, { experiments: ['finetune'], backend: 'gpu', epochs: 3, evalEvery: 1, data: 'folder' });
    const failed = await run(page);
    expect(failed).toBe('finetune failed on the gpu backend: simulated loss of the WebGL context. The run is stopped; pick another backend or other settings and run again.');
    expect(await page.$eval('#run-status', (e) => e.className)).toContain('error');

    await page.evaluate(() => (globalThis as unknown as { restoreConv: () => void }).restoreConv());
    await setSettings(page, { experiments: ['finetune', 'extract'], backend: 'gpu', epochs: 2, evalEvery: 1, data: 'folder' });
    expect(await run(page)).toMatch(/^done: finetune \d+\.\d%, extract \d+\.\d% \(seed 0, dropped folder folder\)/);
    const res = await page.evaluate(() => (globalThis as unknown as { playground: Hook }).playground.results());
    expect(res.map((x) => [x.experiment, x.backend, x.testCount, x.history.length])).toEqual([['finetune', 'gpu', 2, 2], ['extract', 'gpu', 2, 2]]);
    for (const x of res) expect(Number.isFinite(x.finalCost)).toBe(true);
    // The looks inside run on the gpu backend too: prediction, feature maps, one step, im2col.
    await page.click('#test-strip button:nth-child(1)');
    expect(await page.$eval('#prediction', (e) => e.textContent)).toMatch(/predicted: (a_red|b_blue) — true class: (a_red|b_blue)/);
    expect(await page.$$eval('.feature-block', (bs) => bs.length)).toBe(5);
    await page.click('#open-step');
    expect(await page.$eval('#step', (e) => e.textContent)).toMatch(/minibatch x \[7, 1, 32, 32\], cost \d+\.\d{4} \(extract model, gpu backend\)/);
    // extract: the imported layers are frozen, so bprop stops above them and computes no weight gradient there
    expect(await page.$eval('#step-table tbody tr', (tr: Dom) => tr.children[5].textContent + ' | ' + tr.children[7].textContent)).toBe('not run (nothing below trains) | W: not computed (frozen)');
    expect(await page.$eval('#im2col canvas', (c: Dom) => [c.width, c.height])).toEqual([1024, 9]);

    // Stop (from the keyboard): a long run ends after the current minibatch, with a message, and the page runs again.
    await setSettings(page, { experiments: ['scratch'], backend: 'ref', epochs: 500, evalEvery: 0, data: 'folder' });
    await page.click('#run');
    await page.waitForFunction(() => /^scratch: epoch \d+\/500/.test(document.querySelector('#run-status').textContent), { timeout: 60_000, polling: 50 });
    await page.focus('#stop');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !document.querySelector('#run').disabled, { timeout: 30_000, polling: 100 });
    expect(await page.$eval('#run-status', (e) => e.textContent)).toBe('stopped during scratch; the runs before it are kept');
    expect(await page.evaluate(() => (globalThis as unknown as { playground: Hook }).playground.results())).toEqual([]);
  }, 120_000);

  it('finetune on the built-in data (ref backend) gets the CLI\'s accuracy for the same seed and settings; the curves and the import report appear', async () => {
    await setSettings(page, { experiments: ['finetune'], backend: 'ref', perClass: PER_CLASS, epochs: EPOCHS, evalEvery: EPOCHS, data: 'builtin' });
    expect(await run(page)).toMatch(/^done: finetune \d+\.\d% \(seed 0, built-in Fashion-MNIST T-shirt\/Shirt\)/);
    const [mine] = await page.evaluate(() => (globalThis as unknown as { playground: Hook }).playground.results());
    const theirs = await cli;
    expect(mine!.backend).toBe('ref');
    expect(mine!.testCount).toBe(theirs.total);
    expect(mine!.testCorrect).toBe(theirs.correct);
    const shown = await page.$eval('#results tr[data-experiment=finetune] .test-accuracy', (e) => e.textContent);
    expect(theirs.line).toContain(`test accuracy ${shown}, final cost ${mine!.finalCost.toFixed(3)}`);
    // The curves: a line per curve with a point per epoch (test accuracy where evaluated).
    expect(await page.$$eval('#chart-cost circle.point[data-name=finetune]', (c) => c.length)).toBe(EPOCHS);
    expect(await page.$$eval('#chart-cost polyline.series[data-name=finetune]', (c) => c.length)).toBe(1);
    expect(await page.$$eval('#chart-train circle.point[data-name=finetune]', (c) => c.length)).toBe(EPOCHS);
    // test accuracy before training (epoch 0, as the demo evaluates it) and at epoch 2
    expect(await page.$$eval('#chart-test circle.point[data-name=finetune] title', (c) => c.map((t) => t.textContent))).toEqual([
      expect.stringMatching(/^finetune, epoch 0: \d+\.\d%$/), `finetune, epoch ${EPOCHS}: ${shown}`,
    ]);
    // The import report: 13 conv layers and their biases copied at base ×0.001, the new head at the base rate.
    const rows = await page.$$eval('#import-table tbody tr', (trs: Dom[]) => trs.map((tr: Dom) => Array.from(tr.children as Dom[], (td: Dom) => td.textContent as string)));
    expect(rows.filter((r) => r[2] === 'copied from the source').length).toBe(26);
    expect(rows.find((r) => r[0] === 'conv1_1')).toEqual(['conv1_1', 'Convolution', 'copied from the source', '0.00001']);
    expect(rows.find((r) => r[0] === 'fc6_new')).toEqual(['fc6_new', 'Linear', 'new (initialized)', '0.01']);
    expect(await page.$eval('#import-lines', (e) => e.textContent)).toMatch(/Successfully copied layer # 0 'conv1_1'/);
    const top = await page.$eval('#curves', (e) => e.getBoundingClientRect().bottom + window.scrollY);
    await page.screenshot({ path: join(SHOTS, 'playground-run.png'), clip: { x: 0, y: 0, width: 1200, height: Math.ceil(top) } });
  }, RUN_TIMEOUT + 30_000);

  it('a test image: its prediction, the feature maps of each conv block, the frozen layers', async () => {
    // The strip of the first test images: the 4th button predicts test image 3.
    expect(await page.$$eval('#test-strip button', (bs: Dom[]) => bs.length)).toBe(16);
    await page.click('#test-strip button:nth-child(4)');
    expect(await page.$eval('#test-index', (e: Dom) => e.value)).toBe('3');
    expect(await page.$eval('#test-strip button:nth-child(4)', (e: Dom) => e.getAttribute('aria-pressed'))).toBe('true');
    expect(await page.$eval('#prediction', (e) => e.textContent)).toMatch(/predicted: (T-shirt\/top|Shirt) — true class: (T-shirt\/top|Shirt)/);
    const blocks = await page.$$eval('.feature-block', (bs: Dom[]) => bs.map((b: Dom) => [b.getAttribute('data-block'), b.querySelectorAll('canvas').length]));
    expect(blocks).toEqual([['pool1', 8], ['pool2', 8], ['pool3', 8], ['pool4', 8], ['pool5', 8]]);
    // The canvases are drawn (not blank): some pixel of pool1's first map differs from another.
    expect(await page.$eval('.feature-block canvas', (c) => {
      const d = (c as Dom).getContext('2d')!.getImageData(0, 0, (c as Dom).width, (c as Dom).height).data;
      return new Set(Array.from(d as number[]).filter((_, i) => i % 4 === 0)).size;
    })).toBeGreaterThan(2);
    const box = await page.$eval('#test-strip', (e) => e.getBoundingClientRect().top + window.scrollY);
    const end = await page.$eval('#feature-maps', (e) => e.getBoundingClientRect().bottom + window.scrollY);
    await page.screenshot({ path: join(SHOTS, 'playground-features.png'), clip: { x: 0, y: Math.floor(box) - 40, width: 1200, height: Math.ceil(end - box) + 50 } });
  });

  it('inside one step: every layer with its shapes, the gradient norms, and a conv layer\'s im2col drawn', async () => {
    await page.click('#open-step');
    const rows = await page.$$eval('#step-table tbody tr', (trs: Dom[]) => trs.map((tr: Dom) => Array.from(tr.children as Dom[], (td: Dom) => td.textContent as string)));
    expect(rows.length).toBeGreaterThan(50);
    expect(rows[0]!.slice(1, 5)).toEqual(['conv1_1', 'Convolution', '[10, 1, 32, 32]', '[10, 8, 32, 32]']);
    expect(rows.at(-1)![4]).toBe('[10, 2]');
    // finetune: every layer trains, so bprop runs to the bottom and every weight has a gradient norm.
    expect(rows.filter((r) => /^W \d\.\d\de[+-]\d+/.test(r[7]!)).length).toBe(16);
    // the head as an autograd graph (step-graph.ts): fc8's input, W, b and the targets, the four ops
    const ops = await page.$$eval('#step-graph svg g.node', (gs: Dom[]) => gs.map((g: Dom) => g.getAttribute('data-op') as string).sort());
    expect(ops).toEqual(['biasAdd', 'constant', 'constant', 'crossEntropyBinary', 'leaf', 'leaf', 'linear', 'softmax']);
    expect(await page.$$eval('#step-graph svg path.edge', (es) => es.length)).toBe(7);
    const graphTop = await page.$eval('#step-graph', (e) => e.getBoundingClientRect().top + window.scrollY);
    const graphEnd = await page.$eval('#step-graph', (e) => e.getBoundingClientRect().bottom + window.scrollY);
    await page.screenshot({ path: join(SHOTS, 'playground-step-graph.png'), clip: { x: 0, y: Math.floor(graphTop) - 10, width: 1200, height: Math.ceil(graphEnd - graphTop) + 20 } });
    await page.select('#im2col-layer', String(rows.find((r) => r[1] === 'conv2_1')![0]));
    expect(await page.$eval('#im2col p', (e) => e.textContent)).toBe('input [8, 16, 16], kernel 3×3, stride 1, padding 1 → cols [C·R·S = 72, P·Q = 16·16 = 256]; the layer\'s output is W [16, 72] × cols');
    expect(await page.$eval('#im2col canvas', (c) => [(c as Dom).width, (c as Dom).height])).toEqual([256, 72]);
    const top = await page.$eval('#open-step', (e) => e.getBoundingClientRect().top + window.scrollY);
    await page.screenshot({ path: join(SHOTS, 'playground-step.png'), clip: { x: 0, y: Math.floor(top) - 40, width: 1200, height: 600 } });
    const im = await page.$eval('#im2col-layer', (e) => e.getBoundingClientRect().top + window.scrollY);
    await page.screenshot({ path: join(SHOTS, 'playground-im2col.png'), clip: { x: 0, y: Math.floor(im) - 10, width: 1200, height: 370 } });
  });

  it('nothing was requested from another host, and the page threw nothing', () => {
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
