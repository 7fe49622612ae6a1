// File access shared by the readers: existence checks with clear messages, the first
// bytes of a file, whole-file reads, and gzip decompression into one preallocated buffer.

import { closeSync, createReadStream, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { TlError } from '../util/errors.js';
import { fsReason } from '../util/fs-errors.js';

/** Throw a TlError unless `path` is an existing regular file; returns its size. */
export function checkFile(path: string, what = 'weight file'): number {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TlError(`${what} ${path}: no such file`);
    throw new TlError(`${what} ${path}: cannot access: ${fsReason(e)}`);
  }
  if (st.isDirectory()) throw new TlError(`${what} ${path}: is a directory, expected a file`);
  return st.size;
}

/** The first `n` bytes of a file (fewer if it is shorter). */
export function readHead(path: string, n: number, what = 'weight file'): Uint8Array {
  checkFile(path, what);
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(n);
    const got = readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read a whole file into one fresh buffer the caller owns (never from Node's shared pool,
 * so in-place edits are safe).
 */
export function readWhole(path: string, what = 'weight file'): Uint8Array {
  checkFile(path, what);
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const out = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, out, off, Math.min(size - off, 1 << 30), off);
      if (n <= 0) break;
      off += n;
    }
    if (off !== size) throw new TlError(`${what} ${path}: could read only ${off} of ${size} bytes`);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Read exactly `length` bytes at `position` into `dst` (or a new buffer). */
export function readAt(fd: number, position: number, length: number, where: string, dst?: Uint8Array): Uint8Array {
  const out = dst ?? new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, out, off, Math.min(length - off, 1 << 30), position + off);
    if (n <= 0) throw new TlError(`${where}: the file ends early (wanted ${length} bytes at offset ${position}); it is truncated`);
    off += n;
  }
  return out;
}

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Decompress a gzip file into one buffer sized from the gzip trailer (ISIZE), so the
 * peak memory is the decompressed size plus one stream chunk rather than twice it.
 */
export async function gunzipFile(path: string, what = 'weight file'): Promise<Uint8Array> {
  const size = checkFile(path, what);
  if (size < 18) throw new TlError(`${what} ${path}: gzip file of ${size} bytes is truncated`);
  const fd = openSync(path, 'r');
  let isize: number;
  try {
    isize = readAt(fd, size - 4, 4, `${what} ${path}`).reduce((acc, b, i) => acc + b * 2 ** (8 * i), 0);
  } finally {
    closeSync(fd);
  }
  let out = new Uint8Array(Math.max(isize, 1024));
  let len = 0;
  await new Promise<void>((resolve, reject) => {
    const gz = createGunzip();
    const src = createReadStream(path);
    const fail = (e: Error): void => {
      src.destroy();
      gz.destroy();
      reject(new TlError(`${what} ${path}: cannot decompress gzip data (${e.message}); the file is damaged or truncated`));
    };
    src.on('error', fail);
    gz.on('error', fail);
    gz.on('data', (chunk: Buffer) => {
      if (len + chunk.length > out.length) {
        // ISIZE is the size mod 2^32 of the last member only; grow if it was wrong.
        const bigger = new Uint8Array(Math.max(out.length * 2, len + chunk.length));
        bigger.set(out.subarray(0, len));
        out = bigger;
      }
      out.set(chunk, len);
      len += chunk.length;
    });
    gz.on('end', () => resolve());
    src.pipe(gz);
  });
  return out.subarray(0, len);
}
