// Prefetch for neon HDF5 data: the next minibatch is read from the file (and its mean
// subtracted) on a worker thread while the current one computes. The plan of every epoch
// (which rows each batch holds, the shuffle order, neon's wrap-around) is drawn here, on
// the main thread, by the wrapped iterator's own EpochPlanner, and only the rows are handed
// to the worker (src/data/prefetch-worker.ts), so the batches are exactly those of the
// iterator without prefetch. Targets come from the labels already in memory.
//
// The training loop reads batches synchronously (a generator); when the next batch is not
// ready yet the main thread blocks in Atomics.wait on a counter the worker bumps after
// each reply, then takes the reply with receiveMessageOnPort (no event loop turn needed).
// The worker is unref'd: it never keeps the process alive, and close() terminates it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { TlError } from '../util/errors.js';
import type { HDF5Iterator } from './hdf5.js';
import { WrappedIterator, type Batch, type BatchOptions, type PlannedBatch } from './iterator.js';
import type { PrefetchReply, PrefetchRequest, PrefetchWorkerData } from './prefetch-worker.js';

/** The worker script: beside this file when built; from dist/ when this runs from src/ (tests). */
function workerUrl(): URL {
  const here = new URL('./prefetch-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL(import.meta.url.replace(/\/src\/data\/prefetch\.ts$/, '/dist/src/data/prefetch-worker.js'));
}

export interface PrefetchOptions {
  /** Batches requested ahead of the one being consumed (default 1: the next one). */
  ahead?: number;
}

/** How long one Atomics.wait lasts before the reply port is looked at again (a safety net, not a poll rate). */
const WAIT_MS = 1000;

/**
 * An HDF5 iterator whose batch inputs are read on a worker thread, `ahead` batches before
 * they are consumed. Everything about epochs (nbatches, start, reset, skipEpochs) is the
 * wrapped iterator's; close() ends the worker and closes the file.
 */
export class PrefetchIterator extends WrappedIterator<HDF5Iterator> {
  private worker: Worker | null;
  private readonly port: MessagePort;
  private readonly counter: Int32Array;
  private readonly ahead: number;
  private seq = 0;
  /** Replies received before they were wanted, by request id. */
  private readonly early = new Map<number, PrefetchReply>();
  private stopped: string | null = null;

  constructor(inner: HDF5Iterator, opts: PrefetchOptions = {}) {
    super(inner);
    this.ahead = Math.max(1, Math.floor(opts.ahead ?? 1));
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    this.port = port1;
    this.counter = new Int32Array(signal);
    const data: PrefetchWorkerData = { path: inner.path, subtractMean: inner.subtractsMean, port: port2, signal };
    this.worker = new Worker(workerUrl(), { workerData: data, transferList: [port2], execArgv: [] });
    // errors surface through the replies; the listener only keeps an 'error' event from being thrown
    this.worker.on('error', () => {});
    this.worker.unref();
  }

  /** End the worker and close the file; the iterator cannot be used afterwards. */
  override close(): void {
    if (this.worker) {
      void this.worker.terminate();
      this.worker = null;
      this.port.close();
    }
    this.inner.close();
  }

  /** One epoch of batches (see DataIterator); needInputs is asked when a batch is requested, `ahead` batches early. */
  *batches(opts: BatchOptions = {}): Generator<Batch, void, undefined> {
    if (!this.worker) throw new TlError(`${this.inner.path}: the iterator was closed`);
    const plans = this.inner.planEpoch();
    const queue: { plan: PlannedBatch; id: number }[] = [];
    const request = (): void => {
      const n = plans.next();
      if (n.done) return;
      const need = opts.needInputs?.(n.value.rows) ?? true;
      let id = -1;
      if (need) {
        id = this.seq++;
        const m: PrefetchRequest = { id, rows: n.value.rows };
        this.worker!.postMessage(m);
      }
      queue.push({ plan: n.value, id });
    };
    for (let i = 0; i <= this.ahead; i++) request();
    while (queue.length) {
      const { plan, id } = queue.shift()!;
      const x = id < 0 ? new Float32Array(0) : this.take(id);
      request();
      yield {
        x,
        xShape: [this.bsz, ...this.lshape],
        t: this.inner.targetsOf(plan.rows),
        tShape: [this.bsz, this.nclass],
        valid: plan.valid,
        rows: plan.rows,
      };
    }
  }

  /** The inputs of request `id`, waiting for them when they are not there yet. */
  private take(id: number): Float32Array {
    for (;;) {
      const r = this.early.get(id);
      if (r) {
        this.early.delete(id);
        if ('x' in r) return r.x;
        throw r.tlError ? new TlError(r.error, r.exitCode) : new TlError(`${this.inner.path}: reading a batch on the prefetch thread failed (${r.error}); run again with --no-prefetch`);
      }
      const seen = Atomics.load(this.counter, 0);
      for (let got = receiveMessageOnPort(this.port); got !== undefined; got = receiveMessageOnPort(this.port)) {
        const m = got.message as PrefetchReply;
        if (m.id === -1) this.stopped = 'error' in m ? m.error : 'stopped';
        // replies are in request order: ids below the wanted one belong to an epoch left early
        else if (m.id >= id) this.early.set(m.id, m);
      }
      if (this.early.has(id)) continue;
      if (this.stopped) throw new TlError(`${this.inner.path}: ${this.stopped} before the batch was read; run again with --no-prefetch`);
      Atomics.wait(this.counter, 0, seen, WAIT_MS);
    }
  }
}
