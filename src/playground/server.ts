// `tl-scratch playground`: a small local web server for the browser playground. It serves
// the page (dist/playground/: index.html, style.css, playground.js, built by
// scripts/build-playground.mjs) and, as typed arrays (src/playground/wire.ts), what the page
// cannot read itself: the demo's source model (HDF5, read here with the engine's own
// readers) and the built-in Fashion-MNIST T-shirt/Shirt images. Bound to 127.0.0.1 only;
// the page loads nothing from any other host.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { basename, join } from 'node:path';
import { FASHION_TSHIRT_SHIRT_CLASSES, loadBuiltin } from '../data/builtin.js';
import type { WeightFile } from '../formats/types.js';
import { readWeights } from '../transfer/read.js';
import { TlError, UsageError } from '../util/errors.js';
import { packageInfo } from '../util/package.js';
import { DEMO_DEFAULTS, DEMO_MODEL, DEMO_SOURCE, DEMO_SOURCE_MODEL } from '../cli/demo.js';
import { packWire, type BuiltinMeta, type PlaygroundInfo, type SourceMeta } from './wire.js';

const PLAYGROUND_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8016;

/** The files of the page, by URL path (nothing else on disk is reachable). */
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/playground.js': { file: 'playground.js', type: 'text/javascript; charset=utf-8' },
  // the page's Web Workers: the fast backend's helpers and the WebGPU device (src/browser/)
  '/simd-worker.js': { file: 'simd-worker.js', type: 'text/javascript; charset=utf-8' },
  '/webgpu-worker.js': { file: 'webgpu-worker.js', type: 'text/javascript; charset=utf-8' },
};

/**
 * Cross-origin isolation: with these two headers the page gets SharedArrayBuffer (and so
 * the fast backend's Web Workers and the WebGPU device worker, src/browser/start.ts); the
 * page loads nothing from other origins, so requiring CORP of them costs nothing.
 */
export const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } as const;

export interface PlaygroundServerOptions {
  port?: number;
  /** Folder with the built page; default dist/playground/ in the package. */
  staticDir?: string;
  sourceModel?: string;
}

/** The built page's folder in this package (dist/playground/). */
function playgroundDir(): string {
  return join(packageInfo().root, 'dist', 'playground');
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
    'cache-control': 'no-store',
    // The page may talk to this server only: a second line of defence behind the bundle itself.
    'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-eval'; worker-src 'self'",
    'x-content-type-options': 'nosniff',
    ...ISOLATION_HEADERS,
    ...extra,
  });
  res.end(body);
}

/** The names this server answers to: the loopback addresses and localhost. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Why a request is refused before it is read (null: it may go on). DNS rebinding: a page of
 * another site whose name now resolves to 127.0.0.1 sends its own name as Host, so only the
 * loopback names on this server's port are answered; a browser's Origin, when sent, must be
 * this server too (another site's page may not drive it).
 */
function refusal(req: IncomingMessage, port: number): string | null {
  const allowed = new Set(LOOPBACK_NAMES.flatMap((h) => (port === 80 ? [h, `${h}:80`] : [`${h}:${port}`])));
  const host = req.headers.host?.toLowerCase();
  if (!host || !allowed.has(host)) return `host '${req.headers.host ?? ''}' is not this server: open http://${PLAYGROUND_HOST}:${port}/ (the playground answers only to 127.0.0.1, localhost or [::1] on port ${port})`;
  const origin = req.headers.origin?.toLowerCase();
  if (origin !== undefined && !(origin.startsWith('http://') && allowed.has(origin.slice(7)))) return `origin '${req.headers.origin}' is not this server: the playground answers only its own page`;
  return null;
}

function sourcePayload(w: WeightFile, file: string): Uint8Array {
  const meta: SourceMeta = { path: file, format: w.format, layers: [] };
  const arrays: Record<string, Float32Array> = {};
  for (const l of w.layers) {
    meta.layers.push({ name: l.name, kind: l.kind, params: l.params.map((p) => ({ name: p.name, shape: p.shape, dtype: p.dtype })) });
    for (const p of l.params) arrays[`${l.name}/${p.name}`] = p.data;
  }
  return packWire(meta, arrays);
}

/** The demo's target data: the CLI's labelled subset (takePerClass with the seed) and the whole test split. */
function builtinPayload(trainPerClass: number, seed: number): Uint8Array {
  const train = loadBuiltin('fashion-tshirt-shirt', 'train').takePerClass(trainPerClass, seed);
  const test = loadBuiltin('fashion-tshirt-shirt', 'test');
  const meta: BuiltinMeta = { name: 'fashion-tshirt-shirt', classNames: [...FASHION_TSHIRT_SHIRT_CLASSES], lshape: [...train.lshape], trainPerClass, seed };
  return packWire(meta, { trainImages: train.images, trainLabels: train.labels, testImages: test.images, testLabels: test.labels });
}

function intParam(url: URL, name: string, min: number, max: number): number {
  const v = url.searchParams.get(name);
  const n = Number(v);
  if (v === null || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer in [${min}, ${max}], got '${v}'`);
  return n;
}

/** Starts the server; resolves once it listens. */
export async function startPlaygroundServer(o: PlaygroundServerOptions = {}): Promise<{ server: Server; url: string; port: number }> {
  const dir = o.staticDir ?? playgroundDir();
  if (!existsSync(join(dir, 'playground.js'))) {
    throw new TlError(`the playground page is not built (no ${join(dir, 'playground.js')}); run 'npm run build' in tl-scratch's folder`);
  }
  // The shipped model in this package (DEMO_SOURCE_MODEL is found from dist/; this also works from src/).
  const sourceModel = o.sourceModel ?? join(packageInfo().root, 'models', basename(DEMO_SOURCE_MODEL));
  if (!existsSync(sourceModel)) throw new TlError(`the demo's source model ${sourceModel} is missing; recreate it with the command in models/README.md`);
  let source: Promise<Uint8Array> | null = null;
  const info = (): PlaygroundInfo => {
    const train = loadBuiltin('fashion-tshirt-shirt', 'train'), test = loadBuiltin('fashion-tshirt-shirt', 'test');
    return {
      version: packageInfo().version,
      source: { file: `models/${basename(sourceModel)}`, task: DEMO_SOURCE.task, mean: DEMO_SOURCE.mean },
      model: { ...DEMO_MODEL },
      defaults: { trainPerClass: DEMO_DEFAULTS.trainPerClass, epochs: DEMO_DEFAULTS.epochs, lr: DEMO_DEFAULTS.lr, evalEvery: DEMO_DEFAULTS.evalEvery },
      data: { name: 'fashion-tshirt-shirt', classNames: [...FASHION_TSHIRT_SHIRT_CLASSES], trainImages: train.n, testImages: test.n },
    };
  };

  let listening = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const refused = refusal(req, listening);
    if (refused) return send(res, 403, 'text/plain; charset=utf-8', `${refused}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'the playground server only answers GET and HEAD\n', { allow: 'GET, HEAD' });
    const url = new URL(req.url ?? '/', `http://${PLAYGROUND_HOST}`);
    const file = STATIC[url.pathname];
    if (file) return send(res, 200, file.type, readFileSync(join(dir, file.file)));
    if (url.pathname === '/api/info') return send(res, 200, 'application/json', JSON.stringify(info()));
    if (url.pathname === '/api/source') {
      source ??= readWeights(sourceModel).then((w) => sourcePayload(w, `models/${basename(sourceModel)}`));
      return send(res, 200, 'application/octet-stream', await source);
    }
    if (url.pathname === '/api/builtin') {
      const max = Math.min(...loadBuiltin('fashion-tshirt-shirt', 'train').classCounts());
      return send(res, 200, 'application/octet-stream', builtinPayload(intParam(url, 'train_per_class', 1, max), intParam(url, 'seed', 0, 2 ** 31 - 1)));
    }
    return send(res, 404, 'text/plain; charset=utf-8', `not found: ${url.pathname}\n`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // Bad query values are the page's (or a user's) mistake: one line, status 400; anything else 500.
      const status = e instanceof UsageError ? 400 : 500;
      if (!res.headersSent) send(res, status, 'text/plain; charset=utf-8', `${(e as Error).message}\n`);
      else res.destroy();
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE'
        ? new UsageError(`port ${o.port ?? DEFAULT_PORT} on ${PLAYGROUND_HOST} is in use; pick another with --port N (0: any free port)`)
        : new TlError(`cannot listen on ${PLAYGROUND_HOST}:${o.port ?? DEFAULT_PORT}: ${e.message}`));
    });
    server.listen(o.port ?? DEFAULT_PORT, PLAYGROUND_HOST, () => {
      const a = server.address();
      listening = typeof a === 'object' && a ? a.port : o.port ?? DEFAULT_PORT;
      resolve(listening);
    });
  });
  return { server, url: `http://${PLAYGROUND_HOST}:${port}/`, port };
}

/** Opens `url` in the desktop's browser when an opener exists; never fails (the URL is printed anyway). */
function openInBrowser(url: string): boolean {
  const opener = process.platform === 'darwin' ? ['open', url] : process.platform === 'win32' ? ['cmd', '/c', 'start', '', url] : ['xdg-open', url];
  try {
    const child = spawn(opener[0]!, opener.slice(1), { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}

/** The command: serve until Ctrl-C. */
export async function playgroundCommand(o: { port: number; open: boolean }): Promise<number> {
  if (o.port > 65535) throw new UsageError(`--port must be in 0..65535, got ${o.port}`);
  const { server, url } = await startPlaygroundServer({ port: o.port });
  console.log(`tl-scratch playground: ${url}`);
  console.log('open it in a browser (WebGL2 for the gpu backend); Ctrl-C stops the server');
  if (o.open && !openInBrowser(url)) console.log('(no browser opener found; open the address yourself)');
  return new Promise<number>((resolve) => {
    // Ctrl-C stops at once: a browser keeps its keep-alive sockets open (and may be
    // mid-request), and server.close alone waits for them; so every socket is destroyed, and
    // the command returns without waiting for close's callback (the program then exits).
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close();
      server.closeAllConnections();
      resolve(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
