// The webgpu backend's worker thread: it owns the WebGPU device (Dawn's Node binding, the
// optional `webgpu` package) and runs the calls the main thread posts, in order. WebGPU is
// asynchronous and Dawn resolves its promises from the event loop of the thread that made
// them, so the device lives here, where the event loop runs, while the main thread, whose
// Backend interface is synchronous, blocks in Atomics.wait only for replies (init, read,
// sync, stats). Errors are reported through shared memory and thrown by the main thread
// at its next call (./index.ts).
import { parentPort } from 'node:worker_threads';
import { Gpu, type GBuf } from './device.js';
import type { GPU, GPUAdapter } from './gpu-types.js';
import { deviceKernels } from './kernels.js';

interface Shared {
  ctrl: Int32Array;
  reply: Uint8Array;
}
type Msg = Record<string, unknown> & { t: string };

const port = parentPort!;
const buffers = new Map<number, GBuf>();
let gpu: Gpu | null = null;
let kernels: Record<string, (...a: never[]) => void> = {};
let shared: Shared | null = null;
// Keep the instance alive as long as the device (dawn.node stops with it).
let instance: GPU | null = null;

/** Why the device is gone (lost or destroyed), once it is: every later call reports it. */
let lost: string | null = null;
/** Whether the main thread waits for a reply (read, sync, stats): a lost device must still answer it. */
let waiting = false;

// ctrl words: 0 reply sequence, 1 error flag, 2 reply length.
function reply(value: unknown): void {
  waiting = false;
  const s = shared!;
  const bytes = new TextEncoder().encode(JSON.stringify(value ?? null));
  const half = s.reply.length >> 1;
  s.reply.set(bytes.subarray(0, half));
  Atomics.store(s.ctrl, 2, Math.min(bytes.length, half));
  Atomics.add(s.ctrl, 0, 1);
  Atomics.notify(s.ctrl, 0);
}

function reportError(message: string): void {
  const s = shared!;
  if (Atomics.load(s.ctrl, 1) !== 0) return; // the first one stands until the main thread takes it
  // The second half of the reply buffer holds the error message.
  const half = s.reply.length >> 1;
  const bytes = new TextEncoder().encode(message).subarray(0, half);
  s.reply.set(bytes, half);
  Atomics.store(s.ctrl, 3, bytes.length);
  Atomics.store(s.ctrl, 1, 1);
}

/** Arguments as posted, with buffer references ({ $b: id }) resolved. */
function resolve(a: unknown): unknown {
  if (a === null || typeof a !== 'object' || ArrayBuffer.isView(a)) return a;
  if (Array.isArray(a)) return a;
  const o = a as Record<string, unknown>;
  if (typeof o.$b === 'number') {
    const b = buffers.get(o.$b);
    if (!b) throw new Error(`buffer ${o.$b} is not (or no longer) allocated`);
    return b;
  }
  if (o.data && typeof o.data === 'object') return { ...o, data: resolve(o.data) };
  return o;
}

/** An environment variable, or undefined where there is no process (the page's Web Worker runs this file too). */
const envVar = (name: string): string | undefined => (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];

async function chooseAdapter(create: (o: string[]) => GPU): Promise<{ gpu: GPU; adapter: GPUAdapter; how: string } | string> {
  const tried: string[] = [];
  // TL_WEBGPU_ADAPTER: auto (default: a real GPU first, then OpenGL ES), default, opengles, or
  // none (tries none: how tests see a machine without any adapter).
  const want = envVar('TL_WEBGPU_ADAPTER') ?? 'auto';
  if (want === 'none') return 'TL_WEBGPU_ADAPTER=none';
  if (want === 'auto' || want === 'default') {
    const g = create([]);
    const a = await g.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
    if (a) return { gpu: g, adapter: a, how: 'the default backend (Vulkan, Metal or D3D12)' };
    tried.push('no default (Vulkan/Metal/D3D12) adapter');
  }
  if (want === 'auto' || want === 'opengles') {
    const g = create(['backend=opengles']);
    const a = await g.requestAdapter({ featureLevel: 'compatibility' }).catch(() => null);
    if (a) return { gpu: g, adapter: a, how: 'OpenGL ES' };
    tried.push('no OpenGL ES adapter (EGL_PLATFORM=surfaceless)');
  }
  return tried.join('; ') || `TL_WEBGPU_ADAPTER=${want} is none of auto, default, opengles, none`;
}

async function init(): Promise<unknown> {
  let mod: { create: (o: string[]) => GPU; globals: object };
  try {
    // the literal import('webgpu') is what the page's bundle points at navigator.gpu
    const other = envVar('TL_WEBGPU_PACKAGE');
    mod = (await (other ? import(other) : import('webgpu'))) as typeof mod;
  } catch (e) {
    return { error: `the 'webgpu' package (Dawn for Node) does not load here (${(e as Error).message.split('\n')[0]}): reinstall it with npm install webgpu@0.6.2` };
  }
  Object.assign(globalThis, mod.globals);
  const chosen = await chooseAdapter(mod.create);
  if (typeof chosen === 'string') {
    return { error: `no WebGPU adapter (${chosen}): on a GPU, install its Vulkan driver and loader (Debian: apt-get install libvulkan1 mesa-vulkan-drivers, or the vendor's driver); without one, Mesa's EGL and OpenGL ES (apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)` };
  }
  const { adapter, how } = chosen;
  instance = chosen.gpu;
  // Ask for every limit the adapter offers (a device gets WebGPU's defaults otherwise: 128 MiB
  // bindings, 256 MiB buffers, even on a GPU with gigabytes).
  const lim = adapter.limits;
  const requiredLimits: Record<string, number> = {};
  for (const k in lim) {
    const v = (lim as Record<string, unknown>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const device = await adapter.requestDevice({ requiredLimits });
  // Smaller limits on request (tests of the splitting and of the too-large-model message).
  const forced = (name: string): number | undefined => {
    const v = envVar(name);
    return v === undefined || v === '' ? undefined : Number(v);
  };
  gpu = new Gpu(device, reportError, forced('TL_WEBGPU_MAX_BINDING'));
  const maxBuffer = Math.min(device.limits.maxBufferSize ?? 1 << 28, forced('TL_WEBGPU_MAX_BUFFER') ?? Infinity);
  device.addEventListener?.('uncapturederror', (e) => reportError(`backend webgpu: ${e.error.message}`));
  // A lost device (driver reset, destroy) answers the main thread at once instead of leaving it waiting.
  void device.lost?.then((i) => {
    lost = `backend webgpu: the GPU device was lost (${i.reason ?? 'unknown'}${i.message ? `: ${i.message}` : ''}); start the program again`;
    reportError(lost);
    if (waiting) reply(null);
  });
  kernels = deviceKernels(gpu);
  const info = adapter.info;
  const desc = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.replace(/\s+/g, ' ').trim();
  const soft = /llvmpipe|swiftshader|softpipe|lavapipe|software/i.test(desc) || adapter.isFallbackAdapter === true || info.isFallbackAdapter === true || info.type === 'CPU';
  const limits: Record<string, number> = {};
  for (const k in device.limits) {
    const v = (device.limits as Record<string, unknown>)[k];
    if (typeof v === 'number') limits[k] = v;
  }
  return {
    adapter: desc || 'unnamed adapter', backend: info.backendType ?? how, how, featureLevel: adapter.featureLevel ?? (how === 'OpenGL ES' ? 'compatibility' : 'core'), software: soft,
    adapterLimits: requiredLimits, limits, maxBinding: gpu.maxBinding, maxBuffer,
  };
}

port.on('message', (m: Msg) => {
  if (m.t === 'init') {
    shared = { ctrl: m.ctrl as Int32Array, reply: m.reply as Uint8Array };
    void init().then(reply, (e: Error) => reply({ error: `WebGPU failed to start: ${e.message}` }));
    return;
  }
  if (!gpu) return;
  const g = gpu;
  const ask = m.t === 'read' || m.t === 'sync' || m.t === 'stats';
  if (ask) waiting = true;
  if (lost && m.t !== 'stats') {
    reportError(lost);
    if (ask) reply(null);
    return;
  }
  try {
    switch (m.t) {
      case 'alloc': {
        g.begin('alloc');
        buffers.set(m.id as number, g.alloc(m.n as number, m.index as boolean));
        g.end();
        break;
      }
      case 'upload': {
        const data = m.data as Float32Array | Int32Array;
        g.begin('upload');
        const b = g.alloc(data.length, data instanceof Int32Array);
        g.end();
        g.write(b, 0, data);
        buffers.set(m.id as number, b);
        break;
      }
      case 'write':
        g.write(resolve({ $b: m.id }) as GBuf, m.offset as number, m.data as Float32Array);
        break;
      case 'release': {
        const b = buffers.get(m.id as number);
        if (b) {
          buffers.delete(m.id as number);
          g.release(b);
        }
        break;
      }
      case 'call': {
        const k = kernels[m.k as string];
        if (!k) throw new Error(`no kernel '${String(m.k)}'`);
        const args = (m.a as unknown[]).map(resolve) as never[];
        g.begin(m.k as string);
        try {
          k(...args);
        } finally {
          g.end();
        }
        break;
      }
      case 'read': {
        const out = m.out as SharedArrayBuffer;
        g.read(resolve({ $b: m.id }) as GBuf, m.offset as number, m.n as number).then((bytes) => {
          new Uint8Array(out).set(new Uint8Array(bytes));
          reply(null);
        }, (e: Error) => {
          reportError(`backend webgpu: read: ${e.message}`);
          reply(null);
        });
        break;
      }
      case 'sync':
        g.flush();
        void g.settled().then(() => g.device.queue.onSubmittedWorkDone()).then(() => reply(null), (e: Error) => {
          reportError(`backend webgpu: ${e.message}`);
          reply(null);
        });
        break;
      case 'stats':
        reply({ buffers: buffers.size, liveBytes: [...buffers.values()].reduce((a, b) => a + b.buf.size, 0), allocatedBytes: g.allocatedBytes, pipelines: g.pipelineCount, compiles: g.compiles, pooledBytes: g.pooledBytes, reused: g.reused });
        break;
      case 'debugShader':
        g.begin('debugShader');
        try {
          g.debugShader(m.code as string);
        } finally {
          g.end();
        }
        break;
      case 'debugUncaptured':
        // outside any error scope: reaches the device's uncapturederror event only
        g.device.createShaderModule({ code: 'not WGSL', label: 'debugUncaptured' });
        break;
      case 'debugMaxBinding':
        g.setMaxBinding(m.bytes as number | null);
        break;
      case 'debugLose':
        g.device.destroy();
        break;
      default:
        throw new Error(`unknown message '${m.t}'`);
    }
  } catch (e) {
    reportError(`backend webgpu: kernel '${m.t === 'call' ? String(m.k) : m.t}': ${(e as Error).message}`);
    if (m.t === 'read' || m.t === 'sync' || m.t === 'stats') reply(null);
  }
});
void instance;
