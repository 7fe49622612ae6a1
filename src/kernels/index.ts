// The registry of backends and the default one. Tensors carry their own backend (ops run
// where their inputs live); the default is where new tensors are created. `-b/--backend`
// lists its choices from here.
import type { Backend } from './backend.js';
import { hostBackend, refBackend, unboxed } from './cpu/ref/index.js';
import { fastCpu, fastUnavailable } from './cpu/simd/index.js';
import { gpuBackend } from './gpu/webgl/index.js';
import { webgpuBackend } from './gpu/webgpu/index.js';
import { UsageError } from '../util/errors.js';

// `cpu`, the default: the fast backend (src/kernels/cpu/simd/: WebAssembly SIMD, worker
// threads); where the engine lacks WebAssembly SIMD or shared memory, the reference
// kernels under that name, and one line says so. `ref`: the reference kernels.
function makeCpu(): Backend {
  const fast = fastCpu();
  if (fast) return fast.backend;
  const reason = fastUnavailable();
  console.warn(`tl-scratch: ${reason}: the cpu backend falls back to the reference kernels`);
  return hostBackend('cpu', `the reference kernels of src/kernels/cpu/ref/ (${reason})`, unboxed);
}

const cpuBackend = makeCpu();
// gpu.js starts on the gpu backend's first use (src/kernels/gpu/webgl/), so registering it costs nothing.
const backends = new Map<string, Backend>([[cpuBackend.name, cpuBackend], [refBackend.name, refBackend], [gpuBackend.name, gpuBackend]]);
// webgpu (Node only) starts its worker, the optional `webgpu` package and an adapter on first use.
if (webgpuBackend) backends.set(webgpuBackend.name, webgpuBackend);
let current: Backend = cpuBackend;

/**
 * Sets how many threads the fast backend uses (main thread included; default: the
 * machine's logical cores). No effect on the reference kernels.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`the number of threads must be a positive integer, got ${n}`);
  fastCpu()?.pool.setThreads(n);
}

/** The fast backend's thread count (1 when it is unavailable). */
export function getNumThreads(): number {
  return fastCpu()?.pool.numThreads ?? 1;
}

/** The default backend: where tensors are created. */
export function backend(): Backend {
  return current;
}

/** Adds (or replaces) a backend under its name. */
export function registerBackend(b: Backend): void {
  backends.set(b.name, b);
}

/** The registered backend called `name`; a UsageError listing the registered ones for any other name. */
export function getBackend(name: string): Backend {
  const b = backends.get(name);
  if (!b) throw new UsageError(`unknown backend '${name}'; registered backends: ${[...backends.keys()].join(', ')}`);
  return b;
}

/** Makes `name` the default backend; returns it. */
export function setBackend(name: string): Backend {
  current = getBackend(name);
  return current;
}

/** Runs fn with `name` as the default backend, then restores the previous one. */
export function withBackend<T>(name: string | Backend, fn: () => T): T {
  const prev = current;
  current = typeof name === 'string' ? getBackend(name) : name;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** Names of the registered backends (those setBackend accepts). */
export function availableBackends(): string[] {
  return [...backends.keys()];
}

export function registeredBackends(): Backend[] {
  return [...backends.values()];
}

export type { Backend, BinaryOp, CostName, DeviceBuffer, DType, FloatArray, GdmStep, Strided, UnaryOp, WindowGeometry } from './backend.js';
