// `prepare`'s worker threads (row-worker.ts): RowJobs go out to the worker with the fewest
// waiting, results come back as promises the writer awaits in item order, so any number of
// workers writes the same rows in the same order.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TlError } from '../../util/errors.js';
import type { RowJob } from './row-job.js';
import type { RowReply } from './row-worker.js';

/** The worker script: beside this file when built; from dist/ when this runs from src/ (tests). */
function workerUrl(): URL {
  const here = new URL('./row-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL(import.meta.url.replace(/\/src\/data\/prepare\/pool\.ts$/, '/dist/src/data/prepare/row-worker.js'));
}

type Settle = { resolve: (r: RowReply) => void; reject: (e: Error) => void };

interface Thread {
  worker: Worker;
  waiting: Map<number, Settle>;
}

export class RowPool {
  private readonly threads: Thread[] = [];
  private seq = 0;
  private failed: Error | undefined;
  private closing = false;
  /** Warnings the workers sent (a decoder that could not load), each once. */
  readonly warnings = new Set<string>();

  constructor(n: number, onWarning?: (message: string) => void) {
    const url = workerUrl();
    for (let i = 0; i < n; i++) {
      const t: Thread = { worker: new Worker(url, { execArgv: [] }), waiting: new Map() };
      t.worker.on('message', (m: RowReply & { warning?: string }) => {
        if (m.seq === -1) {
          if (m.warning && !this.warnings.has(m.warning)) {
            this.warnings.add(m.warning);
            onWarning?.(m.warning);
          }
          return;
        }
        const s = t.waiting.get(m.seq);
        t.waiting.delete(m.seq);
        s?.resolve(m);
      });
      const fail = (e: Error) => {
        this.failed ??= new TlError(`prepare: a worker thread stopped (${e.message}); run again with fewer --workers, or --workers 1`);
        for (const s of t.waiting.values()) s.reject(this.failed);
        t.waiting.clear();
      };
      t.worker.on('error', fail);
      t.worker.on('exit', (code) => {
        if (t.waiting.size && !this.closing) fail(new Error(`exit code ${code}`));
      });
      this.threads.push(t);
    }
  }

  /** The row of `job` written into `into` (a view of a SharedArrayBuffer), or why it was skipped, from the least busy worker. */
  submit(job: RowJob, into: Uint8Array): Promise<RowReply> {
    if (this.failed) return Promise.reject(this.failed);
    let t = this.threads[0]!;
    for (const u of this.threads) if (u.waiting.size < t.waiting.size) t = u;
    const seq = this.seq++;
    return new Promise<RowReply>((resolve, reject) => {
      t.waiting.set(seq, { resolve, reject });
      t.worker.postMessage({ seq, job, into });
    });
  }

  /** Stops the workers; results still under way are dropped. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
