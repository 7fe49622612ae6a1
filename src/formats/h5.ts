// HDF5 access through h5wasm's Node build, which reads the host file system directly
// (Emscripten NODERAWFS), so datasets are read slice by slice rather than whole.
import h5wasm from 'h5wasm/node';
import fs, { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { TlError } from '../util/errors.js';
import { fsTlError, strerrorReason, userPath } from '../util/fs-errors.js';

export type H5File = InstanceType<typeof h5wasm.File>;
export type H5Dataset = InstanceType<typeof h5wasm.Dataset>;
export type H5Group = InstanceType<typeof h5wasm.Group>;

// The HDF5 library prints its error stack ("HDF5-DIAG: Error detected ...", then indented
// "#000: ..." / "major: ..." lines) on file descriptor 2 before h5wasm throws; h5wasm's
// only switch for it aborts the WebAssembly module. Our callers turn the throw into one
// clear message, so those lines are dropped at the write (TL_HDF5_DIAG=1 keeps them).
// They are counted either way: h5wasm does not throw when a write fails (a full disk), and
// the stacks printed while a file is open for writing are how openH5 learns of it.
const hdf5Errors = { stacks: 0, systemError: '' };

function filterHdf5Diagnostics(): void {
  const keepDiag = process.env.TL_HDF5_DIAG === '1';
  // ", filename = ..." continues a line that HDF5 breaks with the time's newline
  const isDiag = (line: string) => /^HDF5-DIAG|^\s+#\d{3}:|^\s+(major|minor):|^, filename = '.*error message = /.test(line);
  const writeSync = fs.writeSync as (...a: unknown[]) => number;
  // The library writes a line in several pieces: collect pieces into lines, then pass on
  // every line that is not part of an HDF5 error stack.
  let pending = '';
  const flushLines = () => {
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) {
      if (l.startsWith('HDF5-DIAG')) hdf5Errors.stacks++;
      const m = /error message = '([^']*)'/.exec(l);
      if (m) hdf5Errors.systemError = m[1]!;
    }
    const keep = keepDiag ? lines : lines.filter((l) => !isDiag(l));
    if (keep.length) writeSync(2, keep.join('\n') + '\n');
  };
  (fs as { writeSync: unknown }).writeSync = (fd: unknown, buffer: unknown, ...rest: unknown[]): number => {
    if (fd !== 2) return writeSync(fd, buffer, ...rest);
    let n: number;
    if (typeof buffer === 'string') {
      pending += buffer;
      n = Buffer.byteLength(buffer);
    } else if (ArrayBuffer.isView(buffer)) {
      const offset = (rest[0] as number | undefined) ?? 0;
      n = (rest[1] as number | undefined) ?? buffer.byteLength - offset;
      pending += Buffer.from(buffer.buffer, buffer.byteOffset + offset, n).toString('utf8');
    } else return writeSync(fd, buffer, ...rest);
    if (pending.includes('\n')) flushLines();
    return n;
  };
  process.on('exit', () => {
    if (pending) writeSync(2, pending);
  });
}
filterHdf5Diagnostics();

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when `path` is a file that starts with the HDF5 signature (at offset 0, the usual place); false for a folder. */
export function looksLikeHdf5(path: string): boolean {
  if (!statSync(path).isFile()) return false;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(8);
    const n = readSync(fd, head, 0, 8, 0);
    return n === 8 && HDF5_SIGNATURE.every((b, i) => head[i] === b);
  } finally {
    closeSync(fd);
  }
}

/**
 * The end-of-file address recorded in an HDF5 superblock (at offset 0), or null when it
 * cannot be read. HDF5 refuses files shorter than this ("truncated file").
 */
function hdf5StoredEof(path: string): number | null {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(64);
    const n = readSync(fd, b, 0, 64, 0);
    if (n < 16) return null;
    const version = b[8]!;
    let sizeOffsets: number, at: number;
    if (version === 0 || version === 1) {
      sizeOffsets = b[13]!;
      at = (version === 0 ? 24 : 28) + 2 * sizeOffsets;
    } else if (version === 2 || version === 3) {
      sizeOffsets = b[9]!;
      at = 12 + 2 * sizeOffsets;
    } else return null;
    if (![2, 4, 8].includes(sizeOffsets) || at + sizeOffsets > n) return null;
    let v = 0n;
    for (let i = sizeOffsets - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!);
    return Number(v);
  } finally {
    closeSync(fd);
  }
}

type H5Module = Awaited<typeof h5wasm.ready>;
type ReadFn = (fileId: bigint, obj: string, attrOrCount: unknown, ...rest: unknown[]) => number;
let vlenGuarded = false;

/**
 * h5wasm reads variable-length data (strings, vlen arrays) into a buffer of pointers, then
 * frees what they point to with reclaim_vlen_memory, whether the read succeeded or not. When
 * the read fails half-way (a damaged global heap), the buffer holds garbage, and freeing it
 * aborts the WebAssembly module or corrupts its heap. The reads are wrapped here: a failed
 * read (negative status) throws, and the reclaim of its buffer is skipped (the strings it did
 * convert are a small leak, bounded by the attribute's size).
 */
function guardVlenReads(m: H5Module): void {
  if (vlenGuarded) return;
  vlenGuarded = true;
  const lib = m as unknown as Record<string, ReadFn>;
  const failed = new Set<bigint>();
  const read = (name: 'get_attribute_data' | 'get_dataset_data', what: (a: unknown[]) => string) => {
    const orig = lib[name]!;
    lib[name] = (...a: unknown[]) => {
      const ptr = a[a.length - 1] as bigint;
      failed.delete(ptr);
      const status = (orig as (...x: unknown[]) => number)(...a);
      if (typeof status === 'number' && status < 0) {
        failed.add(ptr);
        throw new Error(`the HDF5 library could not read ${what(a)}`);
      }
      return status;
    };
  };
  read('get_attribute_data', (a) => `attribute '${String(a[2])}' of '${String(a[1])}'`);
  read('get_dataset_data', (a) => `dataset '${String(a[1])}'`);
  for (const name of ['reclaim_vlen_memory', 'reclaim_vlen_memory_count'] as const) {
    const orig = lib[name];
    if (!orig) continue;
    lib[name] = (...a: unknown[]) => {
      const ptr = a[3] as bigint;
      if (failed.delete(ptr)) return 0;
      return (orig as (...x: unknown[]) => number)(...a);
    };
  }
}

/**
 * Open an HDF5 file for reading ('r') or writing ('w', truncating), with one clear message
 * when the file is missing, is not HDF5, or is damaged. `what` names the file's role in
 * messages ("checkpoint", "training data", ...).
 */
export async function openH5(path: string, mode: 'r' | 'w' = 'r', what = 'HDF5 file'): Promise<H5File> {
  guardVlenReads(await h5wasm.ready);
  if (mode === 'r') {
    if (!existsSync(path)) throw new TlError(`${what} ${path}: no such file`);
    if (statSync(path).isDirectory()) throw new TlError(`${what} ${path}: is a directory, expected an HDF5 file`);
    if (!looksLikeHdf5(path)) throw new TlError(`${what} ${path}: not an HDF5 file (no HDF5 signature)`);
    // Checked before the HDF5 library sees the file: it would print its error stack to stderr.
    const eof = hdf5StoredEof(path);
    const size = statSync(path).size;
    if (eof !== null && size < eof) {
      throw new TlError(`${what} ${path}: truncated HDF5 file (${size} bytes, its superblock says ${eof}); copy or write it again`);
    }
  }
  else {
    // create the file with Node first: a folder in the way, a missing folder, no permission
    // or a full disk give their own clear message (h5wasm only says that it failed)
    try {
      closeSync(openSync(path, 'w'));
    } catch (e) {
      throw fsTlError(e, userPath(path)) ?? e;
    }
  }
  let f: H5File;
  const stacks = hdf5Errors.stacks;
  try {
    f = new h5wasm.File(path, mode);
  } catch (e) {
    throw new TlError(`${what} ${path}: cannot open as HDF5 (${(e as Error).message}); the file may be truncated or damaged`);
  }
  // h5wasm reports a failed open as a negative file id instead of throwing.
  if ((f as unknown as { file_id: bigint | number }).file_id < 0) {
    throw new TlError(mode === 'r' ? `${what} ${path}: cannot open as HDF5; the file may be truncated or damaged` : `${what} ${userPath(path)}: cannot create the file: ${hdf5Errors.stacks > stacks && hdf5Errors.systemError ? strerrorReason(hdf5Errors.systemError) : 'is the folder writable? is the disk full?'}`);
  }
  if (mode === 'w') failWritesAtClose(f, path, what);
  return f;
}

/**
 * h5wasm carries on when the library fails to write (a full disk leaves a file with holes
 * that looks complete): close() of a file opened for writing throws a TlError when the
 * library reported an error while the file was open, so that writeAtomic keeps the old file.
 */
function failWritesAtClose(f: H5File, path: string, what: string): void {
  const before = hdf5Errors.stacks;
  const close = f.close.bind(f);
  f.close = () => {
    const r = close();
    if (hdf5Errors.stacks > before) {
      const sys = hdf5Errors.systemError;
      throw new TlError(`${what} ${userPath(path)}: cannot write: ${sys ? strerrorReason(sys) : 'the HDF5 library reported an error (TL_HDF5_DIAG=1 shows it)'}`);
    }
    return r;
  };
}

/**
 * Run `read` on an open file: errors of the HDF5 library and h5wasm on a damaged file
 * (h5wasm throws plain Errors such as "error - name not defined!") become one TlError naming
 * the file; TlErrors pass through.
 */
export function damagedH5<T>(what: string, path: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof TlError) throw e;
    const m = String((e as Error)?.message ?? e).split('\n')[0]!;
    // the HDF5 library (WebAssembly) aborts on some damaged files; it cannot read another file in this process after that
    if (/Aborted\(/.test(m)) throw new TlError(`${what} ${path}: the HDF5 library stopped on this file (abort); the file is damaged: use another copy`);
    throw new TlError(`${what} ${path}: cannot read (${m}); the HDF5 file is damaged or truncated`);
  }
}

export { h5wasm };
