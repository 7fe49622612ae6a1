// Cached frozen features: the storage. When every layer up to some point trains at learning
// rate 0 for the whole run and none of them is random (Dropout in training mode), those
// layers compute the same output for an example in every epoch (frozen-prefix.ts says which
// layers qualify). A FeatureCache keeps each example's output of that frozen prefix, stored
// the first time the example comes in a batch, and later batches made only of cached
// examples run the trainable head alone (BatchForward in batch-forward.ts).
//
// Bit-for-bit equality with the uncached run rests on:
//  - the prefix's parameters not moving: their learning rate is 0 at every epoch of the run
//    (peeked from the optimizer; a schedule that raises it later disables the cache), and
//    their optimizer states (momentum velocities) are zero or absent, since GDM at lr 0
//    still moves a parameter by μ·v while v ≠ 0; a fingerprint of the prefix's parameters
//    is checked again at every epoch start, and any change stops caching for the run;
//  - the prefix consuming no random numbers, so the head's dropout masks are the same;
//  - a layer's output for one example not depending on the other examples of its batch
//    or on its row in it (true of the reference kernels: every output element is summed in
//    the same order whatever the batch holds; test/models/feature-cache.test.ts checks it
//    on every registered backend).
// The cached rows are exactly the prefix's output tensor's values, so the head sees the
// same input bits as in the uncached run.
//
// Storage: one row of F values per example [ndata, F], in memory up to a budget (1 GiB by
// default), else in a temporary file, removed when fit ends (also on error or interrupt)
// and, should the process exit first, by an exit handler.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FloatArray } from '../kernels/backend.js';
import { TlError } from '../util/errors.js';

export const DEFAULT_FEATURE_CACHE_BUDGET = 1024 ** 3;

/** How Model.fit caches frozen features (Model.featureCache, or FitOptions.featureCache per call). */
export interface FeatureCacheOptions {
  /** Cache when it applies (default true). */
  enabled?: boolean;
  /** Bytes the cache may hold in memory; above that it goes to a temporary file (default 1 GiB). */
  memoryBudget?: number;
  /** Folder for the temporary file (default the system's temporary folder). */
  tmpDir?: string;
  /** Where the one line saying that (and how) the cache is used goes; default silent. */
  log?: (line: string) => void;
}

/** What the last fit did about the cache (Model.featureCacheInfo). */
export interface FeatureCacheInfo {
  used: boolean;
  /** Why it was not used, or stopped; the log line when used. */
  reason: string;
  /** Index of the first layer not cached (the head starts there). */
  cut?: number;
  /** Values per example. */
  floatsPerExample?: number;
  storage?: 'memory' | 'file';
  /** Why caching stopped during the run (the frozen layers started training or their weights changed). */
  stopped?: string;
  /** Batches trained from cached features alone. */
  cachedBatches: number;
  /** Batches that ran the frozen layers (and stored their rows). */
  computedBatches: number;
}

/** A 64-bit FNV-1a-style fingerprint (two 32-bit lanes) of the bytes of some arrays. */
export function fingerprint(arrays: readonly FloatArray[]): string {
  let h1 = 0x811c9dc5 | 0, h2 = 0x01000193 ^ 0x5bd1e995;
  for (const a of arrays) {
    const n = a.byteLength >>> 2;
    const u = new Uint32Array(a.buffer, a.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const v = u[i]!;
      h1 = Math.imul(h1 ^ v, 0x01000193);
      h2 = Math.imul(h2 ^ (v + i), 0x5bd1e995) ^ (h2 >>> 15);
    }
    h1 = Math.imul(h1 ^ n, 0x01000193);
  }
  return `${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}`;
}

// Temporary files still open, removed by the exit handler if the process ends before fit does.
const openFiles = new Set<FileStore>();
let exitHandlerInstalled = false;
function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const f of [...openFiles]) f.close();
  });
  // A signal that would end the process (nobody else handles it) ends it after the cleanup.
  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    const handler = () => {
      if (process.listenerCount(sig) > 1) return; // someone else handles it (e.g. train's Ctrl-C)
      for (const f of [...openFiles]) f.close();
      process.off(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

interface RowStore {
  readonly kind: 'memory' | 'file';
  write(row: number, values: FloatArray, offset: number): void;
  read(row: number, into: FloatArray, offset: number): void;
  close(): void;
}

class MemoryStore implements RowStore {
  readonly kind = 'memory';
  private data: FloatArray;
  constructor(private readonly F: number, n: number, float64: boolean) {
    this.data = float64 ? new Float64Array(n * F) : new Float32Array(n * F);
  }
  write(row: number, values: FloatArray, offset: number): void {
    this.data.set(values.subarray(offset, offset + this.F), row * this.F);
  }
  read(row: number, into: FloatArray, offset: number): void {
    into.set(this.data.subarray(row * this.F, (row + 1) * this.F), offset);
  }
  close(): void {
    this.data = new Float32Array(0);
  }
}

class FileStore implements RowStore {
  readonly kind = 'file';
  readonly dir: string;
  readonly path: string;
  private fd: number | null;
  private readonly rowBytes: number;

  constructor(F: number, private readonly bytesPerValue: number, parent: string) {
    this.dir = mkdtempSync(join(parent, 'tl-feature-cache-'));
    this.path = join(this.dir, 'features.bin');
    this.fd = openSync(this.path, 'w+', 0o600);
    this.rowBytes = F * bytesPerValue;
    installExitHandler();
    openFiles.add(this);
  }
  private view(a: FloatArray, offset: number): Uint8Array {
    return new Uint8Array(a.buffer, a.byteOffset + offset * this.bytesPerValue, this.rowBytes);
  }
  write(row: number, values: FloatArray, offset: number): void {
    if (this.fd === null) throw new TlError('feature cache: the file was closed');
    const v = this.view(values, offset);
    let done = 0;
    while (done < v.length) done += writeSync(this.fd, v, done, v.length - done, row * this.rowBytes + done);
  }
  read(row: number, into: FloatArray, offset: number): void {
    if (this.fd === null) throw new TlError('feature cache: the file was closed');
    const v = this.view(into, offset);
    let done = 0;
    while (done < v.length) {
      const n = readSync(this.fd, v, done, v.length - done, row * this.rowBytes + done);
      if (n <= 0) throw new TlError(`feature cache: ${this.path} is shorter than expected (row ${row}); was it removed while training?`);
      done += n;
    }
  }
  close(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = null;
    }
    openFiles.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Each example's output of the frozen prefix, filled as examples first come in a batch. */
export class FeatureCache {
  private readonly have: Uint8Array;
  private store: RowStore | null = null;
  private float64: boolean;

  constructor(
    readonly ndata: number,
    /** Shape of one example's features (the prefix's output shape). */
    readonly shape: readonly number[],
    /** The expected dtype of the features; the first rows stored set the actual one. */
    float64: boolean,
    private readonly opts: { memoryBudget: number; tmpDir?: string },
  ) {
    this.have = new Uint8Array(ndata);
    this.float64 = float64;
  }

  get F(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Bytes the rows take. */
  get bytes(): number {
    return this.ndata * this.F * (this.float64 ? 8 : 4);
  }

  /** In memory within the budget, else in a temporary file. */
  get storage(): 'memory' | 'file' {
    return this.store?.kind ?? (this.bytes <= this.opts.memoryBudget ? 'memory' : 'file');
  }

  private rows(): RowStore {
    if (!this.store) {
      this.store = this.storage === 'memory'
        ? new MemoryStore(this.F, this.ndata, this.float64)
        : new FileStore(this.F, this.float64 ? 8 : 4, this.opts.tmpDir ?? tmpdir());
    }
    return this.store;
  }

  /** The temporary file, while there is one. */
  get filePath(): string | null {
    return this.store instanceof FileStore ? this.store.path : null;
  }

  /** Whether every row of the batch is cached. */
  hasAll(rows: Int32Array): boolean {
    for (let k = 0; k < rows.length; k++) if (!this.have[rows[k]!]) return false;
    return true;
  }

  /** Store the rows not cached yet from the prefix's output `values` ([rows.length, F]). */
  put(rows: Int32Array, values: FloatArray): void {
    const f64 = values instanceof Float64Array;
    if (!this.store) this.float64 = f64;
    else if (f64 !== this.float64) throw new TlError('feature cache: the frozen layers changed their output dtype during training');
    const F = this.F;
    if (values.length !== rows.length * F) throw new TlError(`feature cache: ${values.length} values for ${rows.length} rows of ${F}`);
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k]!;
      if (this.have[r]) continue;
      this.rows().write(r, values, k * F);
      this.have[r] = 1;
    }
  }

  /** The cached rows of a batch, [rows.length, F]. */
  gather(rows: Int32Array): FloatArray {
    const F = this.F;
    const out = this.float64 ? new Float64Array(rows.length * F) : new Float32Array(rows.length * F);
    for (let k = 0; k < rows.length; k++) {
      if (!this.have[rows[k]!]) throw new TlError(`feature cache: example ${rows[k]} is not cached`);
      this.rows().read(rows[k]!, out, k * F);
    }
    return out;
  }

  close(): void {
    this.store?.close();
    this.store = null;
    this.have.fill(0);
  }
}
