// The GPU backend (`-b gpu`): every kernel of the Backend interface as gpu.js kernels, on
// the GPU through WebGL where there is one, else in gpu.js's WebAssembly or cpu mode.
// float32 only. The folder, by concern:
//   device.ts        gpu.js itself: loading it, its mode, compiling and caching kernels,
//                    the facts about gpu.js ("traps") the rest relies on;
//   buffers.ts       the started device, buffer handles, placing results, windows onto
//                    long buffers, index tables, and the storage methods;
//   kernel-table.ts  one row per kernel (KernelTable), each running sources from
//   sources/         the gpu.js kernel sources: common.ts (idiv, storage kernels), conv.ts
//                    (gemm, im2col, convolution, bias, pooling), elementwise.ts (maps,
//                    reductions), costs.ts (softmax, costs, the optimizer);
//   gemm.ts          gemm blocked to the index limit.
// This file assembles the backend from its storage and its table, and says at start-up
// which gpu.js mode runs. docs/gpu-backend.md has the design notes.
import { assembleBackend, type Backend } from '../../backend.js';
import { gpuDevice, gpuStorage, releaseCallTemporaries } from './buffers.js';
import type { Device } from './device.js';
import { gpuKernels } from './kernel-table.js';

export { Device, GpuUnavailableError, provideGpuJs, type DeviceInfo, type GpuMode } from './device.js';
export { gpuDevice, gpuStarted, setGpuMode } from './buffers.js';

const assembled = assembleBackend({
  name: 'gpu',
  description: 'src/kernels/gpu/webgl/: gpu.js kernels on the GPU (WebGL), or gpu.js\'s WebAssembly fallback where there is none; float32',
  dtypes: ['float32'],
}, gpuStorage, gpuKernels);

/** The backend: each call releases the GL windows it made. */
export const gpuBackend: Backend = Object.fromEntries(Object.entries(assembled).map(([k, v]) => [k, typeof v !== 'function' ? v : (...a: unknown[]) => {
  try {
    return (v as (...a: unknown[]) => unknown)(...a);
  } finally {
    releaseCallTemporaries();
  }
}])) as unknown as Backend;

/**
 * Starts gpu.js for `-b gpu` and says which mode runs: one line on `log`, and a warning on
 * `warn` when it is not a real GPU (the WebAssembly or cpu fallback, or a software
 * renderer such as llvmpipe or SwiftShader). Throws GpuUnavailableError (exit 1) when
 * gpu.js cannot start at all: no silent fallback to another backend.
 */
export function announceGpu(log: (line: string) => void, warn: (line: string) => void): Device {
  const d = gpuDevice();
  log(`backend gpu: gpu.js mode ${d.mode}${d.info.renderer ? ` (renderer: ${d.info.renderer})` : ''}`);
  if (d.info.notAGpu) warn(`warning: backend gpu is not on a real GPU: ${d.info.notAGpu}; expect it to be slower than -b cpu`);
  return d;
}
