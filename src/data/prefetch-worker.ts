// The prefetch thread (src/data/prefetch.ts): opens the same neon HDF5 file read-only with
// its own h5wasm instance and answers each request (the rows of one planned batch) with
// those rows' inputs, mean subtracted (HDF5Iterator.readExamples, the code the iterator
// itself runs), in request order. Replies go through the reply port, their buffers
// transferred; the shared counter is bumped after each so the main thread, which may be
// blocked in Atomics.wait, wakes up and takes it with receiveMessageOnPort.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { TlError } from '../util/errors.js';
import { HDF5Iterator } from './hdf5.js';

/** What the main thread gives the worker when it starts it. */
export interface PrefetchWorkerData {
  path: string;
  subtractMean: boolean;
  port: MessagePort;
  /** Int32Array over a SharedArrayBuffer of one element: replies sent so far. */
  signal: SharedArrayBuffer;
}

/** A request: the rows of one batch. */
export interface PrefetchRequest {
  id: number;
  rows: Int32Array;
}

/** A reply: the inputs [rows.length, C·H·W], or the error that reading them raised. */
export type PrefetchReply =
  | { id: number; x: Float32Array }
  | { id: number; error: string; tlError: boolean; exitCode?: number };

const { path, subtractMean, port, signal } = workerData as PrefetchWorkerData;
const counter = new Int32Array(signal);

function reply(m: PrefetchReply): void {
  port.postMessage(m, 'x' in m ? [m.x.buffer as ArrayBuffer] : []);
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
}

function failure(id: number, e: unknown): PrefetchReply {
  if (e instanceof TlError) return { id, error: e.message, tlError: true, exitCode: e.exitCode };
  return { id, error: e instanceof Error ? e.message : String(e), tlError: false };
}

// every request waits for the file; they are then served in the order they came
const opened = HDF5Iterator.open(path, { bsz: 1, subtractMean });
opened.catch(() => {}); // reported with each request below

parentPort!.on('message', (m: PrefetchRequest) => {
  opened.then(
    (it) => {
      try {
        reply({ id: m.id, x: it.readExamples(m.rows) });
      } catch (e) {
        reply(failure(m.id, e));
      }
    },
    (e: unknown) => reply(failure(m.id, e)),
  );
});

// a worker that stops for any other reason still wakes a waiting main thread
process.on('exit', () => {
  try {
    reply({ id: -1, error: 'the prefetch thread stopped', tlError: false });
  } catch {
    // the port may already be closed at termination
  }
});
