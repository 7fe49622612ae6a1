// The page's webgpu device worker (src/browser/webgpu.ts starts it): Node's worker
// (src/kernels/gpu/webgpu/worker.ts) unchanged, bundled by scripts/build-browser.mjs with
// node:worker_threads as ./worker-port.ts (the worker's own message port) and the `webgpu`
// package as ./webgpu-navigator.ts (the browser's navigator.gpu).
import '../kernels/gpu/webgpu/worker.js';
