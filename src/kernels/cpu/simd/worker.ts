/// <reference path="./webassembly.d.ts" />
// A helper thread of the fast backend's pool (pool.ts): its own WebAssembly instance (for
// packed gemm panels), then forever: wait for the doorbell, read the job from the port,
// take tasks from the shared counter until none is left, report done; and when the main
// thread has asked (COLLECT changed), collect garbage: this thread's handles on the shared
// buffers its jobs named keep their memory alive until then (collect.ts).
import { workerData, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { SimdInstance } from './simd.js';
import { runTask, type Job } from './tasks.js';
import { COLLECT, DEAD, DONE, ERROR, NEXT, READY, WAKE } from './pool.js';
import { collector } from './collect.js';
import { helperSpan } from './activity.js';

const { ctrl, index, port, module, winograd, spans } = workerData as { ctrl: Int32Array; index: number; port: MessagePort; module: WebAssembly.Module; winograd: WebAssembly.Module; spans: Float64Array };
const inst = new SimdInstance(module, undefined, winograd);
const bell = WAKE + index;
const gc = collector();
let collected = Atomics.load(ctrl, COLLECT);
// However this thread ends (process.exit in a task, an uncaught error), the main thread
// learns it at once instead of waiting for a DONE that will never come.
process.on('exit', () => {
  Atomics.add(ctrl, DEAD, 1);
  Atomics.notify(ctrl, DONE);
});
// For the test that a dying worker cannot hang the program (test/kernels/cpu/simd/backend.test.ts).
const exitOnFirstJob = process.env.TL_TEST_WORKER_EXIT === '1';
Atomics.add(ctrl, READY, 1);
Atomics.notify(ctrl, READY);

for (;;) {
  Atomics.wait(ctrl, bell, 0);
  Atomics.store(ctrl, bell, 0);
  const msg = receiveMessageOnPort(port);
  if (!msg) continue;
  const { job, tasks, timed } = msg.message as { job: Job; tasks: number; timed: boolean };
  if (exitOnFirstJob) process.exit(3);
  try {
    // its span in the job, where a profile records (activity.ts)
    helperSpan(spans, index, timed, () => {
      let ran = 0;
      for (let t = Atomics.add(ctrl, NEXT, 1); t < tasks; t = Atomics.add(ctrl, NEXT, 1), ran++) runTask(inst, job, t);
      return ran;
    });
  } catch (e) {
    Atomics.store(ctrl, ERROR, 1);
    port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
  Atomics.add(ctrl, DONE, 1);
  Atomics.notify(ctrl, DONE);
  const want = Atomics.load(ctrl, COLLECT);
  if (want !== collected) {
    collected = want;
    gc?.();
  }
}
