// A worker thread of `prepare` (pool.ts): makes the row of each RowJob it is sent, in the
// order sent, and posts back the row (its buffer transferred) with its per-channel sums, the reason it was skipped,
// or an unexpected error's message.
import { parentPort } from 'node:worker_threads';
import type { JpegDecoder } from '../image.js';
import { loadWasmJpegDecoder } from '../jpeg-wasm.js';
import { Skip } from './items.js';
import { makeRow, type RowJob } from './row-job.js';

export type RowReply =
  | { seq: number; sums: number[] }
  | { seq: number; skip: { reason: Skip['reason']; detail: string } }
  | { seq: number; error: string };

const port = parentPort!;
let jpeg: JpegDecoder | undefined;
const ready = loadWasmJpegDecoder().then(
  (d) => {
    jpeg = d;
  },
  (e: Error) => {
    // jpeg-js still decodes everything, more slowly; say so once
    port.postMessage({ seq: -1, warning: e.message });
  },
);

port.on('message', (m: { seq: number; job: RowJob; into: Uint8Array }) => {
  void ready.then(() => {
    let reply: RowReply;
    try {
      const { sums } = makeRow(m.job, jpeg, m.into);
      reply = { seq: m.seq, sums };
    } catch (e) {
      reply = e instanceof Skip ? { seq: m.seq, skip: { reason: e.reason, detail: e.detail } } : { seq: m.seq, error: (e as Error)?.message ?? String(e) };
    }
    port.postMessage(reply);
  });
});
