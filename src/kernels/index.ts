// The one place where the backend is chosen. Ops call `backend()` for every kernel.
import type { Backend } from './backend.js';
import { cpuBackend } from './cpu/index.js';

const backends = new Map<string, Backend>([[cpuBackend.name, cpuBackend]]);
let current: Backend = cpuBackend;

export function backend(): Backend {
  return current;
}

export function registerBackend(b: Backend): void {
  backends.set(b.name, b);
}

export function setBackend(name: string): Backend {
  const b = backends.get(name);
  if (!b) throw new Error(`unknown backend '${name}'; available: ${[...backends.keys()].join(', ')}`);
  current = b;
  return b;
}

export function availableBackends(): string[] {
  return [...backends.keys()];
}

export type { Backend, BinaryOp, FloatArray, Strided, UnaryOp, WindowGeometry } from './backend.js';
