// The WebGPU backend (`-b webgpu`): every kernel of the Backend interface in WGSL, on a GPU
// through WebGPU: Dawn's Node binding (the optional `webgpu` package), on a real GPU where
// there is one (Vulkan, Metal, D3D12), else on OpenGL ES in compatibility mode (Mesa's
// llvmpipe on a machine without a GPU). float32 only. The folder:
//   index.ts    this file, on the main thread: buffer handles, the storage methods, the
//               kernel table (each row posts the call to the worker), start-up and its line;
//   worker.ts   the worker thread that owns the device and runs the calls in order;
//   device.ts   buffers pooled by size, pipelines cached per shader, calls submitted in batches;
//   kernels.ts  the kernels over device buffers; shaders.ts, gemm-shader.ts  their WGSL.
// Synchronous reads: WebGPU only reads back asynchronously (mapAsync) and Dawn settles its
// promises on the event loop of the thread that made them. So the device lives in a worker
// and the main thread posts every call there without waiting (calls are queued in order);
// only read, sumOfSquares and start-up block, in Atomics.wait on shared memory, until the
// worker has the values. An error in the worker (a WebGPU validation error, caught in an
// error scope around each call, which names the kernel) is thrown as a BackendError at the
// main thread's next call.
import { assembleBackend, type Backend, type DeviceBuffer, type FloatArray, type KernelTable, type StorageMethods } from '../../backend.js';
import { BackendError } from '../../../util/errors.js';

export interface WebgpuInfo {
  adapter: string;
  backend: string;
  how: string;
  featureLevel: string;
  software: boolean;
  /** The device's limits (every limit the adapter offers is asked for). */
  limits: Record<string, number>;
  /** The adapter's limits. */
  adapterLimits: Record<string, number>;
  /** Bytes of one storage binding (larger arrays are bound in parts) and of one buffer, at most. */
  maxBinding: number;
  maxBuffer: number;
}

/** A buffer handle: an id that names the worker's GPU buffer. */
export class WBuf {
  constructor(readonly id: number, readonly n: number, readonly index: boolean) {}
}

type NodeWorker = {
  postMessage(m: unknown): void;
  unref(): void;
  on(ev: string, f: (e: unknown) => void): void;
  terminate(): Promise<number>;
};
type Builtin = (id: string) => unknown;

const builtin = (globalThis as { process?: { getBuiltinModule?: Builtin } }).process?.getBuiltinModule;
const env = (): Record<string, string | undefined> => (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
const TIMEOUT_MS = 10 * 60_000;

class Connection {
  readonly ctrl = new Int32Array(new SharedArrayBuffer(16));
  readonly reply = new Uint8Array(new SharedArrayBuffer(1 << 20));
  readonly worker: NodeWorker;
  readonly info: WebgpuInfo;
  private dead: string | null = null;
  private nextId = 1;
  private readonly finalizer = new FinalizationRegistry<number>((id) => {
    if (!this.dead) this.worker.postMessage({ t: 'release', id });
  });

  constructor() {
    if (!builtin) throw new BackendError('backend webgpu: needs Node (worker threads); in a page, use the gpu backend');
    const { Worker } = builtin('node:worker_threads') as { Worker: new (u: URL, o: object) => NodeWorker };
    const { existsSync } = builtin('node:fs') as { existsSync(p: URL): boolean };
    const { createRequire } = builtin('node:module') as { createRequire(u: string): { resolve(id: string): string } };
    // TL_WEBGPU_PACKAGE names another module in its place (tests: a package that is missing).
    const pkg = env().TL_WEBGPU_PACKAGE || 'webgpu';
    try {
      createRequire(import.meta.url).resolve(pkg);
    } catch {
      throw new BackendError(`backend webgpu: the '${pkg}' package (Dawn's WebGPU for Node, an optional dependency) is not installed: run npm install ${pkg === 'webgpu' ? 'webgpu@0.6.2' : pkg} (or npm install without --omit=optional)`);
    }
    // Mesa's EGL without a display (set before the worker's Dawn opens EGL; the environment is the process's).
    env().EGL_PLATFORM ??= 'surfaceless';
    let url = new URL('./worker.js', import.meta.url);
    if (!existsSync(url)) url = new URL(import.meta.url.replace(/\/src\/kernels\/gpu\/webgpu\/index\.ts$/, '/dist/src/kernels/gpu/webgpu/worker.js'));
    if (!existsSync(url)) throw new BackendError(`backend webgpu: its worker script ${url.pathname} is missing: npm run build`);
    this.worker = new Worker(url, { execArgv: [] });
    this.worker.on('error', (e) => { this.dead = (e as Error).message; });
    this.worker.on('exit', () => { this.dead ??= 'the worker thread exited'; });
    this.worker.unref();
    const r = this.ask({ t: 'init', ctrl: this.ctrl, reply: this.reply }) as (WebgpuInfo & { error?: string }) | null;
    if (!r || r.error) {
      void this.worker.terminate();
      throw new BackendError(`backend webgpu: ${r?.error ?? 'no reply from the worker'}`);
    }
    this.info = r;
  }

  /** Posts a message and waits for the worker's reply (JSON). */
  ask(m: Record<string, unknown>): unknown {
    const seq = Atomics.load(this.ctrl, 0);
    this.worker.postMessage(m);
    const deadline = Date.now() + TIMEOUT_MS;
    while (Atomics.load(this.ctrl, 0) === seq) {
      if (this.dead) throw new BackendError(`backend webgpu: the worker thread stopped (${this.dead})`);
      if (Date.now() > deadline) throw new BackendError(`backend webgpu: no reply to '${String(m.t)}' within ${TIMEOUT_MS / 1000} s`);
      Atomics.wait(this.ctrl, 0, seq, 200);
    }
    const text = new TextDecoder().decode(this.reply.slice(0, Atomics.load(this.ctrl, 2)));
    this.check();
    return JSON.parse(text) as unknown;
  }

  /** Throws the worker's first error since the last check, if any. */
  check(): void {
    if (this.dead) throw new BackendError(`backend webgpu: the worker thread stopped (${this.dead})`);
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

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * Refuses an array larger than the device's largest buffer, naming the limit. Arrays larger
 * than one storage binding are fine: the kernels bind them in parts. Both connections (Node's
 * worker thread, the page's Web Worker) make their buffer handles under this rule.
 */
export function checkFits(info: WebgpuInfo, n: number): void {
  const max = info.maxBuffer;
  if (4 * n > max) throw new BackendError(`backend webgpu: an array of ${n} values (${mb(4 * n)}) does not fit the device: its largest buffer is ${mb(max)} (maxBufferSize on ${info.adapter})`);
}

/** Throws the device worker's first error since the last call, if any (ctrl[1]: set, ctrl[3]: its length in the reply's second half). */
export function throwWorkerError(ctrl: Int32Array, reply: Uint8Array): void {
  if (Atomics.load(ctrl, 1) === 0) return;
  const half = reply.length >> 1;
  const message = new TextDecoder().decode(reply.slice(half, half + Atomics.load(ctrl, 3)));
  Atomics.store(ctrl, 1, 0);
  throw new BackendError(message);
}

/** What the backend needs of its link to the device: Connection in Node, src/browser/webgpu.ts in a page. */
export interface WebgpuConnection {
  readonly info: WebgpuInfo;
  ask(m: Record<string, unknown>): unknown;
  check(): void;
  post(m: Record<string, unknown>): void;
  handle(n: number, index: boolean): WBuf;
  unregister(b: WBuf): void;
}

let connection: WebgpuConnection | null = null;
let failure: BackendError | null = null;

/** The started backend's connection (starts the worker and the device on first use). */
function conn(): WebgpuConnection {
  if (connection) return connection;
  if (failure) throw failure;
  try {
    connection = new Connection();
  } catch (e) {
    failure = e instanceof BackendError ? e : new BackendError(`backend webgpu: ${(e as Error).message}`);
    throw failure;
  }
  return connection;
}

const asW = (b: DeviceBuffer): WBuf => {
  if (!(b instanceof WBuf)) throw new BackendError('backend webgpu: a buffer of another backend (or a host array) was passed where a webgpu buffer belongs');
  return b;
};
const ref = (b: DeviceBuffer | null): { $b: number } | null => (b === null ? null : { $b: asW(b).id });
const f32 = (v: FloatArray): Float32Array => (v instanceof Float32Array ? v : Float32Array.from(v));

const storage: StorageMethods = {
  alloc: (_dtype, n) => {
    const c = conn();
    const b = c.handle(n, false);
    c.post({ t: 'alloc', id: b.id, n, index: false });
    return b as unknown as DeviceBuffer;
  },
  allocIndex: (n) => {
    const c = conn();
    const b = c.handle(n, true);
    c.post({ t: 'alloc', id: b.id, n, index: true });
    return b as unknown as DeviceBuffer;
  },
  upload: (values) => {
    const c = conn();
    const b = c.handle(values.length, false);
    c.post({ t: 'upload', id: b.id, data: f32(values) });
    return b as unknown as DeviceBuffer;
  },
  read: (buf, offset, n) => {
    const b = asW(buf);
    if (offset < 0 || offset + n > b.n) throw new BackendError(`backend webgpu: read of [${offset}, ${offset + n}) from a buffer of ${b.n}`);
    const c = conn();
    c.check();
    const out = new SharedArrayBuffer(Math.max(4, 4 * n));
    c.ask({ t: 'read', id: b.id, offset, n, out });
    return b.index ? Float32Array.from(new Int32Array(out, 0, n)) : new Float32Array(out, 0, n).slice();
  },
  write: (buf, offset, values) => {
    const b = asW(buf);
    if (values.length === 0) return;
    conn().post({ t: 'write', id: b.id, offset, data: b.index ? Int32Array.from(values) : f32(values).slice() });
  },
  fill: (buf, value, offset, n) => conn().post({ t: 'call', k: 'fill', a: [ref(buf), value, offset, n] }),
  dtypeOf: () => 'float32',
  lengthOf: (buf) => asW(buf).n,
  release: (buf) => {
    const b = asW(buf);
    const c = conn();
    c.unregister(b);
    c.post({ t: 'release', id: b.id });
  },
};

/** Arguments as posted: buffers as { $b: id }, strided views with their buffer so. */
function encode(a: unknown): unknown {
  if (a instanceof WBuf) return { $b: a.id };
  if (ArrayBuffer.isView(a)) throw new BackendError('backend webgpu: a host array (or another backend\'s buffer) was passed where a webgpu buffer belongs');
  if (a && typeof a === 'object' && !Array.isArray(a) && 'data' in a) return { ...(a as object), data: asW((a as { data: DeviceBuffer }).data) && encode((a as { data: unknown }).data) };
  return a;
}
const call = (k: string) => (...args: unknown[]): void => conn().post({ t: 'call', k, a: args.map(encode) });

const kernels: KernelTable = {
  gemm: call('gemm'),
  im2col: call('im2col'),
  col2im: call('col2im'),
  conv2dForward: call('conv2dForward'),
  conv2dBackward: call('conv2dBackward'),
  linearForward: call('linearForward'),
  maxPoolForward: call('maxPoolForward'),
  maxPoolBackward: call('maxPoolBackward'),
  avgPoolForward: call('avgPoolForward'),
  avgPoolBackward: call('avgPoolBackward'),
  unary: call('unary'),
  unaryBackward: call('unaryBackward'),
  binary: call('binary'),
  binaryScalar: call('binaryScalar'),
  copy: call('copy'),
  reduce: call('reduce'),
  scatterAdd: call('scatterAdd'),
  sumOfSquares: (x, offset, n) => {
    const a = storage.read(x, offset, n);
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i]! * a[i]!;
    return s;
  },
  softmax: call('softmax'),
  softmaxBackward: call('softmaxBackward'),
  costRows: call('costRows'),
  costGrad: call('costGrad'),
  biasAdd: call('biasAdd'),
  biasBackward: call('biasBackward'),
  dropoutMask: (mask, n, keep, scale, random) => {
    // Drawn on the host from the engine's generator, in element order, so that every backend makes the same mask.
    const m = new Float32Array(n);
    for (let i = 0; i < n; i++) m[i] = random() < keep ? scale : 0;
    storage.write(mask, 0, m);
  },
  gdmUpdate: call('gdmUpdate'),
};

/** A page's link to a device owned by a Web Worker (src/browser/webgpu.ts): the kernel rows below then run there. */
export function provideWebgpuConnection(c: WebgpuConnection): void {
  connection = c;
  failure = null;
}

/** The storage methods and kernel table, for the page's backend (the same rows over its connection). */
export const webgpuTables = { storage, kernels };

/** The backend. Nothing starts until its first call: the worker, the `webgpu` package and the adapter load then. */
export const webgpuBackend: Backend | null = builtin ? assembleBackend({
  name: 'webgpu',
  description: 'WGSL kernels through WebGPU (Dawn, the optional webgpu package): a real GPU, else OpenGL ES on Mesa; float32 (src/kernels/gpu/webgpu/)',
  dtypes: ['float32'],
}, storage, kernels) : null;

/** Starts the backend (throws a BackendError saying what is missing) and returns what runs it. */
export function webgpuInfo(): WebgpuInfo {
  return conn().info;
}

/** null when the backend can start here, else why not (tests skip with it). */
export function webgpuUnavailable(): string | null {
  try {
    conn();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Waits until the GPU has run every call posted so far; throws the first error (a BackendError naming the kernel). */
export function webgpuSync(): void {
  conn().ask({ t: 'sync' });
}

/**
 * Counters of the worker (tests, bench): live buffers and their bytes, bytes of every GPU
 * buffer made and not destroyed (live and pooled), cached pipelines, compiles, pooled bytes, reuses.
 */
export function webgpuStats(): { buffers: number; liveBytes: number; allocatedBytes: number; pipelines: number; compiles: number; pooledBytes: number; reused: number } {
  return conn().ask({ t: 'stats' }) as ReturnType<typeof webgpuStats>;
}

/** Makes a WebGPU error outside any error scope (tests: the uncaptured error reaches the next call as a BackendError). */
export function webgpuDebugUncapturedError(): void {
  conn().post({ t: 'debugUncaptured' });
}

/**
 * Makes the kernels bind at most `bytes` per storage binding from the next call on (null: the
 * device's limit), as TL_WEBGPU_MAX_BINDING does at start (tests: a training step split into
 * small bindings against the same step unsplit, in one process).
 */
export function webgpuDebugMaxBinding(bytes: number | null): void {
  conn().post({ t: 'debugMaxBinding', bytes });
}

/** Destroys the device, as a driver reset would lose it (tests: the next call says so instead of waiting). */
export function webgpuDebugLoseDevice(): void {
  conn().post({ t: 'debugLose' });
}

/** Compiles WGSL text on the device (tests: errors surface as a BackendError naming the kernel). */
export function webgpuDebugShader(code: string): void {
  conn().post({ t: 'debugShader', code });
}

/** The start-up line: the adapter, its backend and whether it is a software renderer. */
const adapterLine = (i: WebgpuInfo): string => `backend webgpu: adapter ${i.adapter} (${i.backend}, ${i.featureLevel}${i.software ? ', software renderer' : ', a GPU'})`;

/**
 * Starts the backend for `-b webgpu` and says what runs it: one line on `log`, a warning on
 * `warn` for a software renderer. Throws a BackendError (exit 1) when the package or an
 * adapter is missing, saying how to get it.
 */
export function announceWebgpu(log: (line: string) => void, warn: (line: string) => void): WebgpuInfo {
  const i = webgpuInfo();
  log(adapterLine(i));
  if (i.software) warn('warning: backend webgpu is not on a real GPU (a software renderer); expect it to be slower than -b cpu');
  return i;
}

/**
 * `-b auto`: webgpu where it starts on a real GPU (an adapter that is not a software
 * renderer), else `fallback` (the cpu backend). Says which and why in one line on `log`.
 */
export function chooseAuto(fallback: string, log: (line: string) => void): string {
  const why = webgpuUnavailable();
  if (why) {
    log(`backend auto: ${fallback} (webgpu cannot start here: ${why.replace(/^backend webgpu: /, '')})`);
    return fallback;
  }
  const i = webgpuInfo();
  if (i.software) {
    log(`backend auto: ${fallback} (the only WebGPU adapter, ${i.adapter}, is a software renderer, slower than ${fallback})`);
    return fallback;
  }
  log(`backend auto: webgpu (a GPU: ${i.adapter}, ${i.backend})`);
  log(adapterLine(i));
  return 'webgpu';
}
