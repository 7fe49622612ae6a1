// The `webgpu` package (Dawn for Node) as src/kernels/gpu/webgpu/worker.ts loads it, in a
// Web Worker: `create` gives the browser's navigator.gpu (the options name Dawn backends,
// which a browser chooses itself), and there are no globals to install.
import type { GPU } from '../kernels/gpu/webgpu/gpu-types.js';

export function create(): GPU {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new Error('navigator.gpu is absent in this worker');
  return gpu;
}

export const globals = {};
