// node:worker_threads as src/kernels/gpu/webgpu/worker.ts uses it, in a Web Worker: its
// parentPort is the worker's own scope (messages from the page, posts back to it).
const scope = globalThis as unknown as { addEventListener(t: 'message', f: (e: { data: unknown }) => void): void; postMessage(m: unknown): void };

export const parentPort = {
  on(event: 'message', f: (m: unknown) => void): void {
    if (event === 'message') scope.addEventListener('message', (e) => f(e.data));
  },
  postMessage(m: unknown): void {
    scope.postMessage(m);
  },
};
