import { closeSync, openSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsTlError } from './fs-errors.js';

/**
 * A temporary path beside `path` (same directory, so rename is atomic on one file system):
 * `.NAME.tmp-PID-N`. The pid and a counter keep two writers in one process or two processes
 * apart, and the pid tells removeStaleTemps whether the writer still exists.
 */
let counter = 0;
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter++}`);
}

/** Whether `path` names a temporary of tempPathFor (its file name `.NAME.tmp-PID-N`). */
export function isTempPath(path: string): boolean {
  return /^\..+\.tmp-\d+-\d+$/.test(basename(path));
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
export function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true; // not a pid we can judge: leave its files alone
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Remove the temporaries that writers of `path` left behind when they died mid-write
 * (`kill -9`, power loss): `.NAME.tmp-PID-N` beside `path` whose process no longer exists.
 * A live process's temporary (this one's included) and other targets' temporaries are kept.
 * Best effort: a failure here never stops the write that follows.
 */
function removeStaleTemps(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.tmp-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-\d+$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processExists(pid)) continue;
    try {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    } catch {
      // another writer removed it first, or the folder is read-only: not ours to fail on
    }
  }
  return removed;
}

/** Remove a temporary file after a failed write; a failure here must not hide the write's own error. */
function removeTemp(tmp: string): void {
  try {
    rmSync(tmp, { force: true });
  } catch {
    // ENOTDIR/EACCES: the temporary could not have been created either
  }
}

/**
 * The error a failed write throws: a file-system error (no space left, a folder where the
 * file should go, permission denied) as one TlError naming `path`, others as they are.
 */
function writeError(e: unknown, path: string): unknown {
  // opening the temporary is part of writing `path`: "cannot write PATH", not "cannot open"
  const err = e as NodeJS.ErrnoException;
  if (err?.syscall === 'open' && typeof err.path === 'string' && isTempPath(err.path)) err.syscall = 'write';
  return fsTlError(e, path) ?? e;
}

/**
 * Write a file so that readers see either the old content or the new, never half of it:
 * `write(tmp)` produces the file at a temporary path, which is then renamed over `path`.
 * If `write` throws (a full disk included), the temporary file is removed and `path` is
 * untouched; file-system errors become one TlError naming `path`. Temporaries of earlier
 * writers of `path` that died mid-write are removed first.
 */
export async function writeAtomic(path: string, write: (tmpPath: string) => void | Promise<void>): Promise<void> {
  removeStaleTemps(path);
  const tmp = tempPathFor(path);
  try {
    await write(tmp);
    renameSync(tmp, path);
  } catch (e) {
    removeTemp(tmp);
    throw writeError(e, path);
  }
}

function writeParts(path: string, parts: readonly Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const part of parts) {
      for (let at = 0; at < part.length; ) at += writeSync(fd, part, at, part.length - at);
    }
  } finally {
    closeSync(fd);
  }
}

/** writeAtomic for content already in memory (parts given as a list are written one after another, not joined first). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  removeStaleTemps(path);
  const tmp = tempPathFor(path);
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) writeFileSync(tmp, data);
    else writeParts(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    removeTemp(tmp);
    throw writeError(e, path);
  }
}
