// The engine's browser bundle in headless Chromium (Debian's `chromium` package, driven by
// puppeteer-core; no downloaded browser): the GPU backend in gpu.js's WebGL2 mode, on
// SwiftShader (Chromium's CPU implementation of WebGL: no GPU here), against the reference
// backend kernel by kernel, and a reduced VGG-16 training step (test/browser/checks.ts).
// .ci/run installs chromium with apt where it is missing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'puppeteer-core';
import type { BrowserReport, MemorySample } from './checks.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
// Flags from the measurements (docs/gpu-backend.md): no sandbox as root; WebGL on SwiftShader.
const FLAGS = ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--js-flags=--expose-gc'];

describe.skipIf(!CHROMIUM)('the browser bundle in headless Chromium (WebGL2 on SwiftShader)', () => {
  let browser: Browser;
  let report: BrowserReport;
  let pageErrors: string[] = [];
  let bigBad: string[] = [];
  let memory: MemorySample[] = [];

  beforeAll(async () => {
    // @ts-expect-error: a plain .mjs build script without type declarations
    const { buildBrowserBundle } = await import('../../scripts/build-browser.mjs');
    const out = await buildBrowserBundle(resolve(import.meta.dirname, 'checks.ts'), join(mkdtempSync(join(tmpdir(), 'tl-browser-')), 'checks.js'));
    const { launch } = await import('puppeteer-core');
    browser = await launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto('about:blank');
    await page.addScriptTag({ content: readFileSync(out, 'utf8'), type: 'module' });
    await page.waitForFunction('typeof globalThis.runChecks === "function"', { timeout: 30_000 });
    report = (await page.evaluate('globalThis.runChecks()')) as BrowserReport;
    bigBad = (await page.evaluate('globalThis.runBigChecks()')) as string[];
    memory = (await page.evaluate('globalThis.runMemoryCheck(200, 20)')) as MemorySample[];
  }, 300_000);

  it('trap 3 on GL: elementwise kernels, gemm and the optimizer stay exact past 2^24 values', () => {
    expect(bigBad).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('gpu.js runs in webgl2 and the backend says it is a software renderer, not a GPU', () => {
    expect(pageErrors).toEqual([]);
    expect(report.mode).toBe('webgl2');
    expect(report.renderer).toMatch(/SwiftShader/i);
    expect(report.notAGpu).toMatch(/software rasterizer/);
    expect(report.kernelModes).toEqual(['webgl2']); // no kernel fell back to gpu.js's cpu mode
  });

  it('every kernel agrees with the reference backend within 1e-4 relative, outputs past the texture limit and packed four to a texel included', () => {
    const bad = report.checks.filter((c) => !c.ok).map((c) => `${c.what}: ${c.worst}`);
    expect(bad).toEqual([]);
    expect(report.checks.filter((c) => c.what.startsWith('packed: ')).length).toBeGreaterThan(30);
    expect(report.checks.length).toBeGreaterThan(60);
    expect(report.packedCompiles).toBeGreaterThan(20);
  });

  it('a reduced VGG-16 trains to the reference backend\'s loss and weights within 1e-4 (also with its buffers packed); live textures stay flat over 20 steps', () => {
    expect(report.vgg.params).toBeGreaterThan(20);
    expect(Math.abs(report.vgg.lossGpu - report.vgg.lossRef)).toBeLessThanOrEqual(1e-4 * Math.abs(report.vgg.lossRef));
    expect(Math.abs(report.vgg.lossPacked - report.vgg.lossRef)).toBeLessThanOrEqual(1e-4 * Math.abs(report.vgg.lossRef));
    expect(report.vgg.violations).toBe(0);
    const t = report.textures;
    expect(t).toHaveLength(10);
    expect(Math.max(...t.slice(2))).toBeLessThanOrEqual(t[1]! + 8);
  });

  it('device memory stays flat over 200 training steps on WebGL2: live textures, their bytes and compiled kernels', () => {
    expect(memory.map((m) => m.step)).toEqual([0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200]);
    const after = memory.slice(1); // step 0 is before the first step (no activations, gradients or velocities yet)
    expect(after[0]!.textures).toBeGreaterThan(memory[0]!.textures);
    expect(after[0]!.textureMB).toBeGreaterThan(0);
    // every sample after the first 20 steps within 8 textures and 1% of the bytes of the step-20 one (a buffer a layer keeps or drops between steps)
    for (const m of after) {
      expect(m.textures).toBeLessThanOrEqual(after[0]!.textures + 8);
      expect(m.textureMB).toBeLessThanOrEqual(after[0]!.textureMB * 1.01);
      expect(m.kernels).toBe(after[0]!.kernels); // every kernel compiled in the first 20 steps
    }
  });
});
