/// <reference path="./webassembly.d.ts" />
// A helper thread of the fast backend's pool (pool.ts): its own WebAssembly instance (for
// packed gemm panels), then forever: wait for the doorbell, read the jobs from the port,
// claim and run their tasks until none is left (handout.ts); and when the main
// thread has asked (COLLECT changed), collect garbage: this thread's handles on the shared
// buffers its jobs named keep their memory alive until then (collect.ts).
import { workerData, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { SimdInstance } from './simd.js';
import { COLLECT, DEAD, DONE, READY, WAKE } from './pool.js';
import { collector } from './collect.js';
import { claim, helperRound, type RoundMessage } from './handout.js';

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
// For the test that a dying worker cannot hang the program (test/kernels/cpu/simd/backend.test.ts):
// the helper exits holding the first task it claims, which is then lost.
const exitOnFirstTask = process.env.TL_TEST_WORKER_EXIT === '1';
Atomics.add(ctrl, READY, 1);
Atomics.notify(ctrl, READY);

for (;;) {
  Atomics.wait(ctrl, bell, 0);
  Atomics.store(ctrl, bell, 0);
  // every job posted since the last wake-up, oldest first: those already done offer no task (handout.ts)
  for (let msg = receiveMessageOnPort(port); msg; msg = receiveMessageOnPort(port)) {
    const round = msg.message as RoundMessage;
    if (exitOnFirstTask && claim(ctrl, round.tag, round.count) >= 0) process.exit(3);
    helperRound(inst, ctrl, spans, index, round, (error) => port.postMessage({ error, tag: round.tag }));
  }
  const want = Atomics.load(ctrl, COLLECT);
  if (want !== collected) {
    collected = want;
    gc?.();
  }
}
