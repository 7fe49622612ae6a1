// The browser bundle of the engine: src/browser/index.ts (or another entry that imports it)
// bundled by esbuild for browsers, as one ES module with gpu.js's browser build inside.
// Checkpoints (HDF5 files on disk) are swapped for a stub; any other `node:` import in the
// bundled part fails the build (esbuild cannot resolve it for the browser platform).
//   node scripts/build-browser.mjs            → dist/browser/tl-scratch.js
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

/** Swaps src/kernels/cpu/simd/index.ts (Node worker threads) for src/browser/fast-stub.ts. */
export const fastStub = {
  name: 'fast-stub',
  setup(b) {
    b.onResolve({ filter: /\/cpu\/simd\/index\.js$/ }, (args) => (args.importer.includes(`${'/'}src${'/'}kernels`)
      ? { path: resolve(ROOT, 'src/browser/fast-stub.ts') }
      : undefined));
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

/** Bundles `entry` into `outfile`; returns the outfile path. */
export async function buildBrowserBundle(entry = resolve(ROOT, 'src/browser/index.ts'), outfile = resolve(ROOT, 'dist/browser/tl-scratch.js')) {
  await build({
    entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    plugins: [checkpointStub, fastStub, nodeStub], logLevel: 'error', sourcemap: false,
  });
  return outfile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildBrowserBundle();
  console.log(`wrote ${out}`);
}
