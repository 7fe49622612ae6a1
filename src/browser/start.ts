// Starting a page's backends, which in a page is asynchronous: Web Workers start only
// while the thread that made them returns to its event loop, so a page awaits this once
// before it computes. `cpu` is the fast backend (WebAssembly SIMD on Web Workers, as on
// Node's worker threads) where the page is cross-origin isolated, else the reference
// kernels, and the line says why; `webgpu` is registered where navigator.gpu gives a device.
// The workers' scripts lie beside the bundle (scripts/build-browser.mjs builds them).
import { fastCpu, fastUnavailable } from '../kernels/cpu/simd/index.js';
import type { WebgpuInfo } from '../kernels/gpu/webgpu/index.js';
import { startPageThreads } from './simd-pool.js';
import { startWebgpu } from './webgpu.js';

export interface PageBackends {
  /** Whether `cpu` is the fast backend (else the reference kernels under that name). */
  fast: boolean;
  /** Threads `cpu` runs on (the page's thread and its workers). */
  threads: number;
  /** One line: what `cpu` runs, and why it fell back where it did. */
  cpuLine: string;
  /** What runs `webgpu`, or null (webgpuLine says why). */
  webgpu: WebgpuInfo | null;
  webgpuLine: string;
}

/** Why a page has no SharedArrayBuffer, in words a user can act on. */
function isolationHint(): string {
  const g = globalThis as { crossOriginIsolated?: boolean };
  return g.crossOriginIsolated === false
    ? ' (this page is not cross-origin isolated: its server must send Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)'
    : '';
}

/** Starts the fast backend's workers and, unless `webgpu` is false, the WebGPU device; says what runs. */
export async function startPageBackends(o: { threads?: number; webgpu?: boolean } = {}): Promise<PageBackends> {
  const fast = fastCpu() !== null;
  const threads = fast ? await startPageThreads(new URL('./simd-worker.js', import.meta.url), o.threads) : 1;
  const cpuLine = fast
    ? `cpu: the fast backend (WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'}: this page and ${threads - 1} Web Worker${threads === 2 ? '' : 's'})`
    : `cpu: the reference kernels, since the fast backend needs what this page lacks: ${fastUnavailable()}${isolationHint()}`;
  let webgpu: WebgpuInfo | null = null;
  let webgpuLine = 'webgpu: not started';
  if (o.webgpu !== false) {
    const r = await startWebgpu(new URL('./webgpu-worker.js', import.meta.url));
    if (typeof r === 'string') webgpuLine = `webgpu: unavailable: ${r}`;
    else {
      webgpu = r;
      webgpuLine = `webgpu: adapter ${r.adapter}${r.software ? ' (a software renderer: slower than a real GPU)' : ''}`;
    }
  }
  return { fast, threads, cpuLine, webgpu, webgpuLine };
}
