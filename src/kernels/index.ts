// The registry of backends and the default one. Tensors carry their own backend (ops run
// where their inputs live); the default is where new tensors are created. `-b/--backend`
// lists its choices from here.
import type { Backend } from './backend.js';
import { cpuBackend } from './cpu/index.js';
import { UsageError } from '../util/errors.js';

const backends = new Map<string, Backend>([[cpuBackend.name, cpuBackend]]);
let current: Backend = cpuBackend;

/** The default backend: where tensors are created. */
export function backend(): Backend {
  return current;
}

/** Adds (or replaces) a backend under its name. */
export function registerBackend(b: Backend): void {
  backends.set(b.name, b);
}

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
