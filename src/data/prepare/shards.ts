// `prepare`'s work in progress, so that a run stopped part-way (killed, a full disk, a power
// cut) continues where it stopped: OUT/.prepare-partial/ holds a journal (what is being
// prepared, by which process) and one shard file per run of consecutive items of a split
// (their rows, labels, skipped items and per-channel sums), each written atomically. A run
// with the same journal reuses the shards it finds; the final files are assembled from
// them, and the folder is removed once they are in place.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processExists, writeFileAtomicSync } from '../../util/atomic.js';
import { TlError } from '../../util/errors.js';
import type { SkippedItem } from './items.js';

const PARTIAL_DIR = '.prepare-partial';
const JOURNAL = 'journal.json';
const MAGIC = 0x53504c54; // "TLPS"

export interface ShardHeader {
  split: 'train' | 'test';
  /** Items [start, end) of the split. */
  start: number;
  end: number;
  /** Label of each row written, in item order (skipped items have no row). */
  labels: number[];
  skipped: SkippedItem[];
  /** Per-channel sums of the rows' bytes (exact: integers). */
  sums: number[];
}

/** A digest of everything that decides the output: the same one means the same files. */
export function fingerprint(what: unknown): string {
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
}

export class PartialOutput {
  readonly dir: string;
  /** Shards already there when this run started: "split/index". */
  private readonly found = new Set<string>();

  /**
   * Open (or start) the work in progress in `out` for `print`. Another print's shards are
   * removed (the options or the images changed); another live process's run is an error.
   */
  constructor(out: string, print: string, private readonly rowBytes: number, onNote?: (m: string) => void) {
    this.dir = join(out, PARTIAL_DIR);
    const journalPath = join(this.dir, JOURNAL);
    let journal: { fingerprint?: string; pid?: number } | undefined;
    try {
      journal = JSON.parse(readFileSync(journalPath, 'utf8')) as typeof journal;
    } catch {
      journal = undefined;
    }
    if (journal?.pid !== undefined && journal.pid !== process.pid && processExists(journal.pid) && journal.fingerprint === print) {
      throw new TlError(`prepare: another prepare (process ${journal.pid}) is writing ${out}; wait for it to finish, or stop it and run again`);
    }
    if (existsSync(this.dir) && journal?.fingerprint !== print) {
      if (journal) onNote?.(`prepare: ${this.dir} holds a stopped run with other options or images; starting over`);
      rmSync(this.dir, { recursive: true, force: true });
    }
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomicSync(journalPath, JSON.stringify({ fingerprint: print, pid: process.pid }) + '\n');
    for (const name of readdirSync(this.dir)) {
      const m = /^(train|test)-(\d+)\.shard$/.exec(name);
      if (m && this.valid(join(this.dir, name))) this.found.add(`${m[1]}/${Number(m[2])}`);
    }
  }

  private path(split: string, index: number): string {
    return join(this.dir, `${split}-${String(index).padStart(6, '0')}.shard`);
  }

  /** A shard's header and the file's size, read without its rows; undefined when it is no shard. */
  private headerOnly(path: string): { header: ShardHeader; offset: number; size: number } | undefined {
    try {
      const fd = openSync(path, 'r');
      try {
        const head = Buffer.alloc(8);
        if (readSync(fd, head, 0, 8, 0) !== 8 || head.readUInt32LE(0) !== MAGIC) return undefined;
        const json = Buffer.alloc(head.readUInt32LE(4));
        if (readSync(fd, json, 0, json.length, 8) !== json.length) return undefined;
        return { header: JSON.parse(json.toString('utf8')) as ShardHeader, offset: 8 + json.length, size: fstatSync(fd).size };
      } finally {
        closeSync(fd);
      }
    } catch {
      return undefined;
    }
  }

  /** A shard whose size is what its header says (an atomic write leaves no other kind; this guards against a damaged disk). */
  private valid(path: string): boolean {
    const h = this.headerOnly(path);
    return h !== undefined && h.size === h.offset + h.header.labels.length * this.rowBytes;
  }

  /** The header of a finished shard, without its rows. */
  header(split: string, index: number): ShardHeader {
    const h = this.headerOnly(this.path(split, index));
    if (!h) throw new TlError(`prepare: ${this.path(split, index)} cannot be read; remove ${this.dir} and run again`);
    return h.header;
  }

  private readHeader(path: string): { header: ShardHeader; offset: number; bytes?: Uint8Array } {
    const b = readFileSync(path);
    if (b.readUInt32LE(0) !== MAGIC) throw new Error('not a shard');
    const n = b.readUInt32LE(4);
    return { header: JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as ShardHeader, offset: 8 + n, bytes: b };
  }

  has(split: string, index: number): boolean {
    return this.found.has(`${split}/${index}`);
  }

  /** Header and rows (rows × rowBytes bytes) of a finished shard. */
  read(split: string, index: number): { header: ShardHeader; rows: Uint8Array } {
    const { header, offset, bytes } = this.readHeader(this.path(split, index));
    return { header, rows: bytes!.subarray(offset, offset + header.labels.length * this.rowBytes) };
  }

  write(index: number, header: ShardHeader, rows: Uint8Array): void {
    const h = Buffer.from(JSON.stringify(header), 'utf8');
    const head = Buffer.allocUnsafe(8 + h.length);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt32LE(h.length, 4);
    h.copy(head, 8);
    // the rows (tens of MB) go to the file from where they are, not copied behind the header
    writeFileAtomicSync(this.path(header.split, index), [head, rows]);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
