/// <reference path="../kernels/cpu/simd/webassembly.d.ts" />
// A helper of the fast backend in a page (./simd-pool.ts): a Web Worker with its own
// WebAssembly instance. The first message hands it the shared control words and the
// compiled modules; each later message is a job: take tasks from the shared counter until
// none is left, then report DONE. Between jobs it idles on its event loop (a page's worker
// has no way to read a message while blocked in Atomics.wait).
import { SimdInstance } from '../kernels/cpu/simd/simd.js';
import { runTask, type Job } from '../kernels/cpu/simd/tasks.js';
import { DONE, ERROR, HELPER_TASKS, NEXT, READY } from './simd-pool.js';
import { helperSpan } from '../kernels/cpu/simd/activity.js';

interface Init { ctrl: Int32Array; index: number; module: WebAssembly.Module; winograd: WebAssembly.Module; errorText: Uint8Array; spans: Float64Array }

const scope = globalThis as unknown as { addEventListener(t: 'message', f: (e: { data: unknown }) => void): void };
let inst: SimdInstance | null = null;
let shared: Init | null = null;

scope.addEventListener('message', (e) => {
  const m = e.data as { init?: Init; job?: Job; tasks?: number; timed?: boolean };
  if (m.init) {
    shared = m.init;
    inst = new SimdInstance(m.init.module, undefined, m.init.winograd);
    Atomics.add(shared.ctrl, READY, 1);
    return;
  }
  if (!inst || !shared || !m.job) return;
  const c = shared.ctrl;
  let ran = 0;
  const { job, tasks } = m as { job: Job; tasks: number };
  try {
    // its span in the job, where a profile records (activity.ts)
    helperSpan(shared.spans, shared.index, m.timed === true, () => {
      for (let t = Atomics.add(c, NEXT, 1); t < tasks; t = Atomics.add(c, NEXT, 1), ran++) runTask(inst!, job, t);
      return ran;
    });
  } catch (err) {
    if (Atomics.compareExchange(c, ERROR, 0, 1) === 0) {
      const bytes = new TextEncoder().encode(err instanceof Error ? err.message : String(err)).subarray(0, shared.errorText.length - 1);
      shared.errorText.fill(0);
      shared.errorText.set(bytes);
    }
  }
  Atomics.add(c, HELPER_TASKS, ran);
  Atomics.add(c, DONE, 1);
  Atomics.notify(c, DONE);
});
