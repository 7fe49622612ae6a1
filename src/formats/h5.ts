// HDF5 access through h5wasm's Node build, which reads the host file system directly
// (Emscripten NODERAWFS), so datasets are read slice by slice rather than whole.
import h5wasm from 'h5wasm/node';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { TlError } from '../util/errors.js';

export type H5File = InstanceType<typeof h5wasm.File>;
export type H5Dataset = InstanceType<typeof h5wasm.Dataset>;
export type H5Group = InstanceType<typeof h5wasm.Group>;

// The HDF5 library prints its error stack ("HDF5-DIAG: Error detected ...", then indented
// "#000: ..." / "major: ..." lines) to stderr before h5wasm throws. Our callers turn the
// throw into one clear message, so those lines are dropped unless TL_HDF5_DIAG=1.
function filterHdf5Diagnostics(): void {
  if (process.env.TL_HDF5_DIAG === '1') return;
  const write = process.stderr.write.bind(process.stderr) as (...a: unknown[]) => boolean;
  const isDiag = (line: string) => /^HDF5-DIAG|^\s+#\d{3}:|^\s+(major|minor):/.test(line);
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : null;
    if (text !== null && text.split('\n').filter((l) => l.length).every(isDiag)) return true;
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
}
filterHdf5Diagnostics();

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when the file starts with the HDF5 signature (at offset 0, the usual place). */
export function looksLikeHdf5(path: string): boolean {
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
 * Open an HDF5 file for reading ('r') or writing ('w', truncating), with one clear message
 * when the file is missing, is not HDF5, or is damaged. `what` names the file's role in
 * messages ("checkpoint", "training data", ...).
 */
export async function openH5(path: string, mode: 'r' | 'w' = 'r', what = 'HDF5 file'): Promise<H5File> {
  await h5wasm.ready;
  if (mode === 'r') {
    if (!existsSync(path)) throw new TlError(`${what} ${path}: no such file`);
    if (statSync(path).isDirectory()) throw new TlError(`${what} ${path}: is a directory, expected an HDF5 file`);
    if (!looksLikeHdf5(path)) throw new TlError(`${what} ${path}: not an HDF5 file (no HDF5 signature)`);
  }
  let f: H5File;
  try {
    f = new h5wasm.File(path, mode);
  } catch (e) {
    throw new TlError(`${what} ${path}: cannot open as HDF5 (${(e as Error).message}); the file may be truncated or damaged`);
  }
  // h5wasm reports a failed open as a negative file id instead of throwing.
  if ((f as unknown as { file_id: bigint | number }).file_id < 0) {
    throw new TlError(mode === 'r' ? `${what} ${path}: cannot open as HDF5; the file may be truncated or damaged` : `${what} ${path}: cannot create the file (is the folder writable?)`);
  }
  return f;
}

export { h5wasm };
