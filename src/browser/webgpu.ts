// The webgpu backend in a page: the same kernel rows and the same device code as in Node
// (src/kernels/gpu/webgpu/: index.ts's tables, worker.ts and device.ts, bundled for the
// page by scripts/build-browser.mjs into webgpu-worker.js), over navigator.gpu.
//
// Why a worker, and why the calling thread polls: the Backend interface is synchronous
// (a read returns the values), but WebGPU reads back only asynchronously (mapAsync), and
// its promises settle on the event loop of the thread that owns the device. As in Node,
// the device lives in a Web Worker that runs the posted calls in order and, for a read,
// copies the values into a SharedArrayBuffer and bumps a shared sequence word. The engine's
// thread (the page's main thread) may not block in Atomics.wait, so it polls that word
// with Atomics.load; the worker's event loop is its own, so it keeps running meanwhile.
// Only reads, syncs and stats wait; every other call is posted and returns. Starting is
// asynchronous (startWebgpu), because a worker cannot start while its parent is busy.
// Needs SharedArrayBuffer, so a cross-origin isolated page (COOP/COEP headers).
import { assembleBackend, type Backend } from '../kernels/backend.js';
import { checkFits, provideWebgpuConnection, throwWorkerError, webgpuTables, WBuf, type WebgpuConnection, type WebgpuInfo } from '../kernels/gpu/webgpu/index.js';
import { registerBackend } from '../kernels/index.js';
import { BackendError } from '../util/errors.js';

/** How long a read may wait for the worker before it gives up with a message (software adapters are slow). */
const TIMEOUT_MS = 5 * 60_000;

interface PageWorker {
  postMessage(m: unknown): void;
  terminate(): void;
  addEventListener(type: 'error', f: (e: { message?: string }) => void): void;
}

class PageConnection implements WebgpuConnection {
  readonly ctrl = new Int32Array(new SharedArrayBuffer(16));
  readonly reply = new Uint8Array(new SharedArrayBuffer(1 << 20));
  info!: WebgpuInfo;
  private dead: string | null = null;
  private nextId = 1;
  private readonly finalizer = new FinalizationRegistry<number>((id) => {
    if (!this.dead) this.worker.postMessage({ t: 'release', id });
  });

  constructor(readonly worker: PageWorker) {
    worker.addEventListener('error', (e) => { this.dead = e.message ?? 'the worker failed'; });
  }

  /** Sends init and waits for the reply on the event loop (the worker must be able to start). */
  async init(): Promise<WebgpuInfo & { error?: string }> {
    const seq = Atomics.load(this.ctrl, 0);
    this.worker.postMessage({ t: 'init', ctrl: this.ctrl, reply: this.reply });
    const deadline = Date.now() + 60_000;
    while (Atomics.load(this.ctrl, 0) === seq) {
      if (this.dead) return { error: `its Web Worker failed to start (${this.dead})` } as WebgpuInfo & { error: string };
      if (Date.now() > deadline) return { error: 'its Web Worker did not answer within 60 s' } as WebgpuInfo & { error: string };
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.json() as WebgpuInfo & { error?: string };
  }

  private json(): unknown {
    return JSON.parse(new TextDecoder().decode(this.reply.slice(0, Atomics.load(this.ctrl, 2)))) as unknown;
  }

  ask(m: Record<string, unknown>): unknown {
    this.check();
    const seq = Atomics.load(this.ctrl, 0);
    this.worker.postMessage(m);
    const deadline = Date.now() + TIMEOUT_MS;
    while (Atomics.load(this.ctrl, 0) === seq) {
      if (Date.now() > deadline) throw new BackendError(`backend webgpu: no reply to '${String(m.t)}' from its Web Worker within ${TIMEOUT_MS / 1000} s (the GPU process may have crashed); reload the page`);
    }
    const value = this.json();
    this.check();
    return value;
  }

  check(): void {
    if (this.dead) throw new BackendError(`backend webgpu: its Web Worker stopped (${this.dead}); reload the page`);
    throwWorkerError(this.ctrl, this.reply);
  }

  post(m: Record<string, unknown>): void {
    this.check();
    this.worker.postMessage(m);
  }

  handle(n: number, index: boolean): WBuf {
    checkFits(this.info, n);
    const b = new WBuf(this.nextId++, n, index);
    this.finalizer.register(b, b.id, b);
    return b;
  }

  unregister(b: WBuf): void {
    this.finalizer.unregister(b);
  }
}

/** The page's webgpu backend: the Node backend's kernel rows over the page's connection. */
const webgpuPageBackend: Backend = assembleBackend({
  name: 'webgpu',
  description: 'WGSL kernels through the browser\'s WebGPU (navigator.gpu), the device in a Web Worker; float32 (src/kernels/gpu/webgpu/, src/browser/webgpu.ts)',
  dtypes: ['float32'],
}, webgpuTables.storage, webgpuTables.kernels);

let started: Promise<WebgpuInfo | string> | null = null;

/**
 * Starts the webgpu backend of this page once: the device in a Web Worker from `url` (the
 * bundled webgpu-worker.js), then registers `webgpu`. Resolves with what runs it, or with
 * one line saying why there is no webgpu here (nothing is registered then).
 */
export function startWebgpu(url: URL): Promise<WebgpuInfo | string> {
  started ??= start(url);
  return started;
}

async function start(url: URL): Promise<WebgpuInfo | string> {
  const g = globalThis as { navigator?: { gpu?: unknown }; Worker?: new (u: URL, o: object) => PageWorker; crossOriginIsolated?: boolean };
  if (!g.navigator?.gpu) return 'this browser offers no WebGPU here (navigator.gpu is absent: Chrome/Edge 113+, Firefox 141+, Safari 26, in a secure context: a page from localhost or over TLS)';
  if (typeof SharedArrayBuffer !== 'function' || g.crossOriginIsolated === false) return 'WebGPU needs SharedArrayBuffer here, and this page is not cross-origin isolated (its server must send Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  if (!g.Worker) return 'this runtime has no Web Workers to own the WebGPU device';
  const worker = new g.Worker(url, { type: 'module', name: 'tl-scratch webgpu device' });
  const c = new PageConnection(worker);
  const r = await c.init();
  if (r.error) {
    worker.terminate();
    return /no WebGPU adapter/.test(r.error)
      ? 'navigator.gpu gave no adapter (WebGPU is off or blocklisted in this browser; chrome://gpu says why)'
      : `WebGPU failed to start in the page: ${r.error}`;
  }
  // worker.ts names Node's adapter choices; in a page the browser chose.
  c.info = { ...r, how: 'navigator.gpu in a Web Worker', backend: 'the browser\'s WebGPU' };
  provideWebgpuConnection(c);
  registerBackend(webgpuPageBackend);
  return c.info;
}
