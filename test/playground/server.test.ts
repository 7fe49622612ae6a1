// The playground's local server (src/playground/server.ts): bound to 127.0.0.1, serves the
// built page and the demo's data and weights as typed arrays, 404s everything else, and the
// page it serves refers to no other host. The page is built into a temporary folder here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import { startPlaygroundServer } from '../../src/playground/server.js';
import { unpackWire, packWire, type BuiltinMeta, type PlaygroundInfo, type SourceMeta } from '../../src/playground/wire.js';
import { loadBuiltin } from '../../src/data/builtin.js';
import { readWeights } from '../../src/transfer/read.js';
import { DEMO_SOURCE, DEMO_SOURCE_MODEL } from '../../src/cli/demo.js';

/**
 * http(s) addresses allowed to appear in the served files: documentation links inside
 * gpu.js's error messages and shader comments, never requested (the browser test checks
 * that every request the page makes goes to 127.0.0.1).
 */
const DOC_LINKS = new Set(['https://github.com/gpujs/gpu.js/wiki/Encoder-details', 'https://www.shadertoy.com/view/4t2SDh']);

/** A raw HTTP/1.1 request to 127.0.0.1 with exactly these headers (Host included: fetch cannot set it). */
function raw(port: number, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, setHost: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tl-scratch playground: the local server', () => {
  let server: Server;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    // @ts-expect-error: a plain .mjs build script without type declarations
    const { buildPlayground } = await import('../../scripts/build-playground.mjs');
    dir = await buildPlayground(mkdtempSync(join(tmpdir(), 'tl-playground-')));
    ({ server, url } = await startPlaygroundServer({ port: 0, staticDir: dir }));
  }, 60_000);

  afterAll(() => {
    server?.close();
  });

  it('listens on 127.0.0.1 only and prints an http://127.0.0.1:PORT/ address', () => {
    const a = server.address();
    expect(typeof a === 'object' && a?.address).toBe('127.0.0.1');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves the page, its style and its script', async () => {
    const html = await fetch(url);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    const text = await html.text();
    expect(text).toContain('<script type="module" src="playground.js">');
    for (const id of ['run', 'stop', 'backend', 'chart-cost', 'chart-test', 'import-table', 'predict', 'open-step', 'im2col-layer', 'drop']) expect(text).toContain(`id="${id}"`);
    expect((await fetch(`${url}style.css`)).headers.get('content-type')).toMatch(/text\/css/);
    const js = await fetch(`${url}playground.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await js.text()).length).toBeGreaterThan(100_000);
  });

  it('sends the cross-origin isolation headers with every answer (SharedArrayBuffer for the fast backend and webgpu), and serves the page\'s two workers', async () => {
    for (const p of ['', 'playground.js', 'simd-worker.js', 'webgpu-worker.js', 'api/info', 'nope']) {
      const r = await fetch(`${url}${p}`);
      expect(r.headers.get('cross-origin-opener-policy'), p).toBe('same-origin');
      expect(r.headers.get('cross-origin-embedder-policy'), p).toBe('require-corp');
      expect(r.headers.get('cache-control'), p).toBe('no-store');
      expect(r.headers.get('content-security-policy'), p).toMatch(/worker-src 'self'/);
    }
    for (const w of ['simd-worker.js', 'webgpu-worker.js']) {
      const r = await fetch(`${url}${w}`);
      expect(r.status, w).toBe(200);
      expect(r.headers.get('content-type'), w).toMatch(/javascript/);
      expect(await r.text(), w).toBe(readFileSync(join(dir, w), 'utf8'));
    }
  });

  it('answers 404 for anything else (no path reaches the disk) and 405 for other methods', async () => {
    for (const p of ['nope', '../package.json', '%2e%2e/package.json', 'dist/playground/index.html', 'api/nothing']) {
      const r = await fetch(`${url}${p}`);
      expect(r.status, p).toBe(404);
    }
    expect((await fetch(url, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('serves nothing that refers to another host: no http(s) address but gpu.js\'s documentation links in strings', () => {
    for (const f of ['index.html', 'style.css', 'playground.js', 'simd-worker.js', 'webgpu-worker.js']) {
      const text = readFileSync(join(dir, f), 'utf8');
      const hosts = [...text.matchAll(/https?:\/\/[^\s"'`)<>\\]+/g)].map((m) => m[0]).filter((u) => !DOC_LINKS.has(u) && !/^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(u) && u !== 'http://www.w3.org/2000/svg');
      expect(hosts, f).toEqual([]);
    }
  });

  it('/api/info says which source model, mean and defaults the page uses (the demo\'s)', async () => {
    const info = (await (await fetch(`${url}api/info`)).json()) as PlaygroundInfo;
    expect(info.source.mean).toBe(DEMO_SOURCE.mean);
    expect(info.source.file).toBe('models/vgg16-fashion8-w0.125-fc128.h5');
    expect(info.model).toMatchObject({ widthMult: 0.125, fcSize: 128, imageSize: 32, batchSize: 10 });
    expect(info.data).toMatchObject({ classNames: ['T-shirt/top', 'Shirt'], trainImages: 1000, testImages: 2000 });
  });

  it('/api/source holds the source model\'s arrays as the engine reads them', async () => {
    const { meta, arrays } = unpackWire<SourceMeta>(await (await fetch(`${url}api/source`)).arrayBuffer());
    const w = await readWeights(join(import.meta.dirname, '../../models', basename(DEMO_SOURCE_MODEL)));
    expect(meta.layers.map((l) => l.name)).toEqual(w.layers.map((l) => l.name));
    for (const l of w.layers) {
      for (const p of l.params) {
        const got = arrays[`${l.name}/${p.name}`] as Float32Array;
        expect(got.length).toBe(p.data.length);
        expect(Buffer.from(got.buffer).equals(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength))).toBe(true);
      }
    }
  });

  it('/api/builtin gives the CLI\'s labelled subset for the seed and the whole test split', async () => {
    const { meta, arrays } = unpackWire<BuiltinMeta>(await (await fetch(`${url}api/builtin?train_per_class=3&seed=7`)).arrayBuffer());
    const want = loadBuiltin('fashion-tshirt-shirt', 'train').takePerClass(3, 7);
    const test = loadBuiltin('fashion-tshirt-shirt', 'test');
    expect(meta).toMatchObject({ classNames: ['T-shirt/top', 'Shirt'], lshape: [1, 28, 28], trainPerClass: 3, seed: 7 });
    expect(Array.from(arrays.trainLabels!)).toEqual(Array.from(want.labels));
    expect(Buffer.from(arrays.trainImages as Uint8Array).equals(Buffer.from(want.images))).toBe(true);
    expect(arrays.testImages!.length).toBe(test.images.length);
    expect(Array.from(arrays.testLabels!)).toEqual(Array.from(test.labels));
  });

  it('a bad query is one line with status 400, no stack trace', async () => {
    for (const q of ['train_per_class=0&seed=0', 'train_per_class=501&seed=0', 'train_per_class=2', 'train_per_class=x&seed=1']) {
      const r = await fetch(`${url}api/builtin?${q}`);
      expect(r.status, q).toBe(400);
      const text = await r.text();
      expect(text.trim().split('\n'), q).toHaveLength(1);
      expect(text).not.toMatch(/\bat \S+ \(/);
    }
  });

  it('a second server on the same port says to pick another with --port', async () => {
    const port = Number(new URL(url).port);
    await expect(startPlaygroundServer({ port, staticDir: dir })).rejects.toThrow(/port \d+ on 127\.0\.0\.1 is in use; pick another with --port/);
  });

  it('an unbuilt page is one clear message', async () => {
    await expect(startPlaygroundServer({ port: 0, staticDir: mkdtempSync(join(tmpdir(), 'tl-playground-empty-')) })).rejects.toThrow(/the playground page is not built .* run 'npm run build'/);
  });

  it('answers only to 127.0.0.1, localhost and [::1] on its port (DNS rebinding): any other Host is refused with 403', async () => {
    const port = Number(new URL(url).port);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LocalHost:${port}`]) {
      const r = await raw(port, 'GET', '/api/info', { host });
      expect(r.status, host).toBe(200);
      expect(JSON.parse(r.body).data.name).toBe('fashion-tshirt-shirt');
    }
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', 'localhost', `127.0.0.2:${port}`, `localhost.evil.example:${port}`, `0.0.0.0:${port}`, `127.0.0.1:${port}@evil.example`]) {
      for (const path of ['/', '/api/source', '/playground.js']) {
        const r = await raw(port, 'GET', path, { host });
        expect(r.status, `${host} ${path}`).toBe(403);
        expect(r.body.trim().split('\n')).toHaveLength(1);
        expect(r.body).toContain(`host '${host}' is not this server: open http://127.0.0.1:${port}/`);
        expect(r.headers['cache-control']).toBe('no-store');
        expect(r.headers['content-security-policy']).toMatch(/^default-src 'self'/);
      }
    }
    // a request with no Host at all is not answered with content either (Node's server or ours refuses it)
    const none = await raw(port, 'GET', '/', {});
    expect([400, 403]).toContain(none.status);
  });

  it("a browser's Origin other than this server's page is refused (403); the page's own origin is served", async () => {
    const port = Number(new URL(url).port);
    const host = `127.0.0.1:${port}`;
    expect((await raw(port, 'GET', '/api/info', { host, origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    expect((await raw(port, 'GET', '/api/info', { host, origin: `http://localhost:${port}` })).status).toBe(200);
    for (const origin of ['http://evil.example', `http://evil.example:${port}`, `https://127.0.0.1:${port}`, 'null', `http://127.0.0.1:${port + 1}`]) {
      const r = await raw(port, 'GET', '/api/info', { host, origin });
      expect(r.status, origin).toBe(403);
      expect(r.body).toContain(`origin '${origin}' is not this server`);
    }
  });

  it('only GET and HEAD: other methods get 405 with Allow; HEAD gives the headers without a body; the Host check comes first', async () => {
    const port = Number(new URL(url).port);
    const host = `127.0.0.1:${port}`;
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await raw(port, method, '/api/info', { host });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['content-security-policy']).toMatch(/^default-src 'self'/);
    }
    const get = await raw(port, 'GET', '/style.css', { host });
    const head = await raw(port, 'HEAD', '/style.css', { host });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect(head.headers['x-content-type-options']).toBe('nosniff');
    expect((await raw(port, 'POST', '/', { host: 'evil.example' })).status).toBe(403);
  });

  it('the wire format keeps every array and the meta', () => {
    const a = Float32Array.of(1.5, -2), b = Uint8Array.of(1, 2, 3), c = Int32Array.of(-7);
    const { meta, arrays } = unpackWire<{ x: number }>(packWire({ x: 3 }, { a, b, c }).slice().buffer);
    expect(meta).toEqual({ x: 3 });
    expect(arrays).toEqual({ a, b, c });
  });
});
