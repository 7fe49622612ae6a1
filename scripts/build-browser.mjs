// The browser bundle of the engine: src/browser/index.ts (or another entry that imports it)
// bundled by esbuild for browsers, as one ES module with gpu.js's browser build inside.
// Checkpoints (HDF5 files on disk) are swapped for a stub; the fast backend's thread pool
// for Web Workers, and the page's workers are built beside the bundle (buildPageWorkers); any other `node:` import in the
// bundled part fails the build (esbuild cannot resolve it for the browser platform).
//   node scripts/build-browser.mjs            → dist/browser/{tl-scratch,simd-worker,webgpu-worker}.js
import { build } from 'esbuild';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Swaps src/models/checkpoint.ts for src/browser/checkpoint-stub.ts. */
export const checkpointStub = {
  name: 'checkpoint-stub',
  setup(b) {
    b.onResolve({ filter: /\/checkpoint\.js$/ }, (args) => (args.importer.includes(`${'/'}src${'/'}`)
      ? { path: resolve(ROOT, 'src/browser/checkpoint-stub.ts') }
      : undefined));
  },
};

/**
 * The fast backend (src/kernels/cpu/simd/) for pages: its thread pool on Web Workers
 * (src/browser/simd-pool.ts in place of pool.ts, Node's worker_threads), and node:v8/vm
 * (a V8 flag, the gc function) as stubs; the kernels and tasks are Node's.
 */
export const pagePool = {
  name: 'page-pool',
  setup(b) {
    b.onResolve({ filter: /^\.\/pool\.js$/ }, (args) => (args.importer.includes(`cpu${'/'}simd${'/'}`)
      ? { path: resolve(ROOT, 'src/browser/simd-pool.ts') }
      : undefined));
    b.onResolve({ filter: /^node:(v8|vm)$/ }, (args) => (args.importer.includes(`cpu${'/'}simd${'/'}`)
      ? { path: resolve(ROOT, 'src/browser/node-v8-stub.ts') }
      : undefined));
  },
};

/** Node's webgpu worker (src/kernels/gpu/webgpu/worker.ts) in a Web Worker: its port and navigator.gpu for the `webgpu` package. */
const webgpuWorkerShims = {
  name: 'webgpu-worker-shims',
  setup(b) {
    b.onResolve({ filter: /^node:worker_threads$/ }, () => ({ path: resolve(ROOT, 'src/browser/worker-port.ts') }));
    b.onResolve({ filter: /^webgpu$/ }, () => ({ path: resolve(ROOT, 'src/browser/webgpu-navigator.ts') }));
  },
};

/** node:fs/os/path as imported by the feature cache (its file-backed path never runs in a page). */
export const nodeStub = {
  name: 'node-stub',
  setup(b) {
    b.onResolve({ filter: /^node:(fs|os|path)$/ }, (args) => (args.importer.endsWith('feature-cache.ts')
      ? { path: resolve(ROOT, 'src/browser/node-stub.ts') }
      : undefined));
  },
};

/**
 * The page's workers, next to the bundle that starts them (it finds them by its own URL):
 * simd-worker.js (the fast backend's helpers) and webgpu-worker.js (the WebGPU device).
 */
export async function buildPageWorkers(outDir) {
  const common = { bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'error', sourcemap: false, legalComments: 'none' };
  await build({ ...common, entryPoints: [resolve(ROOT, 'src/browser/simd-worker.ts')], outfile: resolve(outDir, 'simd-worker.js'), plugins: [pagePool] });
  await build({
    ...common, entryPoints: [resolve(ROOT, 'src/browser/webgpu-worker.ts')], outfile: resolve(outDir, 'webgpu-worker.js'), plugins: [webgpuWorkerShims],
    // worker.ts's adapter choice: in a page, the browser's own (navigator.gpu.requestAdapter)
    define: { 'process.env.TL_WEBGPU_ADAPTER': '"default"' },
  });
  return outDir;
}

/** Bundles `entry` into `outfile` (with `plugins` first: tests swap modules), the page's workers beside it; returns the outfile path. */
export async function buildBrowserBundle(entry = resolve(ROOT, 'src/browser/index.ts'), outfile = resolve(ROOT, 'dist/browser/tl-scratch.js'), plugins = []) {
  await build({
    entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    plugins: [...plugins, checkpointStub, pagePool, nodeStub], logLevel: 'error', sourcemap: false,
  });
  await buildPageWorkers(dirname(outfile));
  return outfile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildBrowserBundle();
  console.log(`wrote ${out}`);
}
