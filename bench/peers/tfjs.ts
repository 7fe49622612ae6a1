// TensorFlow.js as a peer: tfjs-core with its pure-JavaScript CPU backend and its
// WebAssembly backend (XNNPACK; the .wasm binaries are loaded from node_modules, no
// network). Loaded lazily so that benchmarks that do not use it do not pay for it.
import { createRequire } from 'node:module';
import path from 'node:path';

export type Tf = typeof import('@tensorflow/tfjs-core');
export type TfBackend = 'cpu' | 'wasm';

const require = createRequire(import.meta.url);
let loaded: Tf | null = null;

/** tfjs-core with both backends registered (CommonJS builds, so all share one engine). */
export function loadTf(): Tf {
  if (loaded) return loaded;
  // tfjs-cpu prints a banner ("install tfjs-node") on its first use in Node: drop that one message.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('tfjs-node')) warn(...args);
  };
  const tf = require('@tensorflow/tfjs-core') as Tf;
  require('@tensorflow/tfjs-backend-cpu');
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(dir + path.sep);
  loaded = tf;
  return tf;
}

/** Switches tfjs to a backend (tensors made before belong to the previous one). */
export async function useTfBackend(name: TfBackend): Promise<Tf> {
  const tf = loadTf();
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialize`);
  await tf.ready();
  return tf;
}

export function tfVersion(): string {
  return loadTf().version_core;
}

/** "tfjs-wasm 4.22.0 (SIMD, 1 thread)": the label used in the table. */
export function tfLabel(name: TfBackend): string {
  const tf = loadTf();
  if (name === 'cpu') return `tfjs-cpu ${tfVersion()}`;
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threads' : '1 thread';
  return `tfjs-wasm ${tfVersion()} (${simd}, ${threads})`;
}
