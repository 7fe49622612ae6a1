/// <reference path="../kernels/cpu/simd/webassembly.d.ts" />
// A helper of the fast backend in a page (./simd-pool.ts): a Web Worker with its own
// WebAssembly instance. The first message hands it the shared control words and the
// compiled modules; each later message is a round of a job: claim and run its tasks until
// none is left, counting each done (../kernels/cpu/simd/handout.ts). Between jobs it idles
// on its event loop (a page's worker has no way to read a message while blocked in
// Atomics.wait).
import { SimdInstance } from '../kernels/cpu/simd/simd.js';
import type { Job } from '../kernels/cpu/simd/tasks.js';
import { ERROR, HELPER_TASKS, READY } from './simd-pool.js';
import { helperRound, type RoundMessage } from '../kernels/cpu/simd/handout.js';

interface Init { ctrl: Int32Array; index: number; module: WebAssembly.Module; winograd: WebAssembly.Module; errorText: Uint8Array; spans: Float64Array }

const scope = globalThis as unknown as { addEventListener(t: 'message', f: (e: { data: unknown }) => void): void };
let inst: SimdInstance | null = null;
let shared: Init | null = null;

scope.addEventListener('message', (e) => {
  const m = e.data as { init?: Init; job?: Job };
  if (m.init) {
    shared = m.init;
    inst = new SimdInstance(m.init.module, undefined, m.init.winograd);
    Atomics.add(shared.ctrl, READY, 1);
    return;
  }
  if (!inst || !shared || !m.job) return;
  const c = shared.ctrl, text = shared.errorText;
  // a job already done (this worker's event loop was late) offers no task (handout.ts)
  helperRound(inst, c, shared.spans, shared.index, m as RoundMessage, (error) => {
    if (Atomics.compareExchange(c, ERROR, 0, 1) !== 0) return; // the first error's text only
    const bytes = new TextEncoder().encode(error).subarray(0, text.length - 1);
    text.fill(0);
    text.set(bytes);
  }, HELPER_TASKS);
});
