// A small zip reader for PyTorch checkpoints: central directory (with zip64), stored
// entries only, read with positioned reads so the archive is never loaded whole.

import { closeSync, fstatSync, openSync } from 'node:fs';
import { TlError } from '../util/errors.js';
import { readAt } from './io.js';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate, ... */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  flags: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
const MAX_CD_BYTES = 256 << 20;

export function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05) && (head[3] === 0x04 || head[3] === 0x06);
}

/** An open zip archive. Call close() when done. */
export class ZipFile {
  readonly entries = new Map<string, ZipEntry>();
  readonly size: number;
  private readonly fd: number;
  private readonly starts = new Map<ZipEntry, number>();

  constructor(
    readonly path: string,
    private readonly what = 'zip file',
  ) {
    this.fd = openSync(path, 'r');
    try {
      this.size = fstatSync(this.fd).size;
      this.readDirectory();
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private fail(msg: string): never {
    throw new TlError(`${this.what} ${this.path}: ${msg}`);
  }

  private readDirectory(): void {
    const tailLen = Math.min(this.size, 22 + 65535);
    if (tailLen < 22) this.fail('too short to be a zip archive');
    const tail = readAt(this.fd, this.size - tailLen, tailLen, `${this.what} ${this.path}`);
    const dv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (dv.getUint32(i, true) === EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) this.fail('no zip end-of-central-directory record; the archive is truncated or not a zip');
    let count = dv.getUint16(eocd + 10, true);
    let cdSize = dv.getUint32(eocd + 12, true);
    let cdOffset = dv.getUint32(eocd + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const locAt = eocd - 20;
      if (locAt < 0 || dv.getUint32(locAt, true) !== ZIP64_LOCATOR_SIG) this.fail('zip64 archive without a zip64 locator');
      const z64Offset = Number(dv.getBigUint64(locAt + 8, true));
      if (z64Offset + 56 > this.size) this.fail('zip64 end record lies outside the file');
      const z = readAt(this.fd, z64Offset, 56, `${this.what} ${this.path}`);
      const zdv = new DataView(z.buffer, z.byteOffset, 56);
      if (zdv.getUint32(0, true) !== ZIP64_EOCD_SIG) this.fail('bad zip64 end record');
      count = Number(zdv.getBigUint64(32, true));
      cdSize = Number(zdv.getBigUint64(40, true));
      cdOffset = Number(zdv.getBigUint64(48, true));
    }
    if (cdSize > MAX_CD_BYTES) this.fail(`central directory of ${cdSize} bytes is absurdly large`);
    if (cdOffset + cdSize > this.size) this.fail('central directory lies outside the file; the archive is truncated');
    const cd = readAt(this.fd, cdOffset, cdSize, `${this.what} ${this.path}`);
    const cdv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdSize || cdv.getUint32(p, true) !== CDH_SIG) this.fail(`central directory entry ${i} is damaged`);
      const flags = cdv.getUint16(p + 8, true);
      const method = cdv.getUint16(p + 10, true);
      let compressedSize = cdv.getUint32(p + 20, true);
      let size = cdv.getUint32(p + 24, true);
      const nameLen = cdv.getUint16(p + 28, true);
      const extraLen = cdv.getUint16(p + 30, true);
      const commentLen = cdv.getUint16(p + 32, true);
      let localHeaderOffset = cdv.getUint32(p + 42, true);
      if (p + 46 + nameLen + extraLen + commentLen > cdSize) this.fail(`central directory entry ${i} is damaged`);
      const name = Buffer.from(cd.buffer, cd.byteOffset + p + 46, nameLen).toString('utf8');
      // zip64 extra field: the 0xffffffff fields, in order, as u64
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = cdv.getUint16(e, true);
        const len = cdv.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          const next = (): number => {
            if (q + 8 > e + 4 + len) this.fail(`zip64 field of entry '${name}' is damaged`);
            const v = Number(cdv.getBigUint64(q, true));
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset, flags });
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** File offset of an entry's data, after checking it is stored, unencrypted and inside the file. */
  dataOffset(entry: ZipEntry): number {
    const known = this.starts.get(entry);
    if (known !== undefined) return known;
    if (entry.flags & 1) this.fail(`entry '${entry.name}' is encrypted`);
    if (entry.method !== 0) {
      this.fail(
        `entry '${entry.name}' is compressed (zip method ${entry.method}); PyTorch writes uncompressed entries, ` +
          'so this archive was repacked: re-save it with torch.save()',
      );
    }
    if (entry.localHeaderOffset + 30 > this.size) this.fail(`entry '${entry.name}' lies outside the file; the archive is truncated`);
    const h = readAt(this.fd, entry.localHeaderOffset, 30, `${this.what} ${this.path}`);
    const dv = new DataView(h.buffer, h.byteOffset, 30);
    if (dv.getUint32(0, true) !== LFH_SIG) this.fail(`entry '${entry.name}' has no local header; the archive is damaged`);
    const start = entry.localHeaderOffset + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
    if (start + entry.size > this.size) {
      this.fail(`entry '${entry.name}' needs ${entry.size} bytes at offset ${start} but the file has ${this.size}; the archive is truncated`);
    }
    this.starts.set(entry, start);
    return start;
  }

  /** Read `length` bytes at `offset` within an entry's data (into `dst` if given). */
  read(entry: ZipEntry, offset: number, length: number, dst?: Uint8Array): Uint8Array {
    if (offset < 0 || offset + length > entry.size) {
      this.fail(`entry '${entry.name}' has ${entry.size} bytes; reading ${length} at ${offset} goes past its end`);
    }
    return readAt(this.fd, this.dataOffset(entry) + offset, length, `${this.what} ${this.path}`, dst);
  }

  readAll(entry: ZipEntry): Uint8Array {
    return this.read(entry, 0, entry.size);
  }
}
