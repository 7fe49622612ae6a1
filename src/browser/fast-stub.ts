// The fast CPU backend in the browser bundle: absent (it runs on Node's worker threads and
// SharedArrayBuffers). src/kernels/index.ts then registers the reference kernels as `cpu`
// and says so in one line. scripts/build-browser.mjs swaps src/kernels/cpu/simd/index.ts for this.
import type { Backend } from '../kernels/backend.js';

export function fastCpu(): { backend: Backend; pool: { setThreads(n: number): void; numThreads: number } } | null {
  return null;
}

export function fastUnavailable(): string {
  return 'the browser bundle has no WebAssembly worker-thread backend';
}
