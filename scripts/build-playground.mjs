// The playground's page (src/playground/page/): main.ts bundled with the engine for the
// browser (the browser bundle's stubs, and stubs for the Node-only parts of the built-in data
// and image readers that the page does not use), plus index.html and style.css, into
// dist/playground/. `npm run build` runs it after tsc; `tl-scratch playground` serves it.
//   node scripts/build-playground.mjs         → dist/playground/{index.html,style.css,playground.js,simd-worker.js,webgpu-worker.js}
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPageWorkers, checkpointStub, nodeStub, pagePool } from './build-browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = resolve(ROOT, 'src/playground/page');

/** node: modules imported by src/data/builtin.ts (the page gets its images from the server). */
const builtinNodeStub = {
  name: 'builtin-node-stub',
  setup(b) {
    b.onResolve({ filter: /^node:(fs|module|path|url|zlib)$/ }, (args) => (args.importer.endsWith(`data${'/'}builtin.ts`)
      ? { path: join(PAGE, 'stubs/node.ts') }
      : undefined));
  },
};

/** pngjs and jpeg-js, imported by src/data/image.ts (the page decodes with the browser). */
const imageStub = {
  name: 'image-stub',
  setup(b) {
    b.onResolve({ filter: /^(pngjs|jpeg-js)$/ }, () => ({ path: join(PAGE, 'stubs/images.ts') }));
  },
};

/** Builds the page into `outDir`; returns outDir. */
export async function buildPlayground(outDir = resolve(ROOT, 'dist/playground')) {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(PAGE, 'main.ts')], outfile: join(outDir, 'playground.js'), bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    plugins: [checkpointStub, pagePool, nodeStub, builtinNodeStub, imageStub], logLevel: 'error', sourcemap: false, legalComments: 'none',
  });
  await buildPageWorkers(outDir);
  for (const f of ['index.html', 'style.css']) copyFileSync(join(PAGE, f), join(outDir, f));
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(`wrote ${await buildPlayground()}`);
}
