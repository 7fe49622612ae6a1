// Node's file-system errors (EISDIR, ENOTDIR, EACCES, ENOSPC, ...) as one line a user can
// act on: what happened, to which path, what to do. The one place these codes are worded:
// the CLI's last resort (src/cli.ts) and the atomic writes (atomic.ts) call it.
import { basename, dirname, join } from 'node:path';
import { TlError } from './errors.js';

/** What each code means for the path it names, and what to do about it. */
const REASONS: Record<string, string> = {
  EISDIR: 'is a folder, where a file is expected; give a file name',
  ENOTDIR: 'a part of this path is a file, where a folder is expected; check the path',
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied; check its permissions (and its folder\'s) or choose another path',
  EPERM: 'operation not permitted; check its permissions (and its folder\'s) or choose another path',
  EROFS: 'the file system is read-only; write somewhere else',
  ENOSPC: 'no space left on the device; free some space or write somewhere else',
  EDQUOT: 'disk quota exceeded; free some space or write somewhere else',
  EFBIG: 'the file is too large for this file system; write somewhere else',
  EIO: 'input/output error from the device; the disk or network share may be failing: check it, or use another copy',
  EEXIST: 'already exists (a file where a folder is to be made?); remove it or choose another path',
  ENAMETOOLONG: 'the path is too long; choose a shorter one',
  ELOOP: 'too many symbolic links in the path (a loop?); check the links',
  EMFILE: 'too many open files; close other programs or raise the limit (ulimit -n)',
  ENFILE: 'too many open files in the system; close other programs',
  EBUSY: 'the file or folder is busy (in use by another process); try again later',
  ETXTBSY: 'the file is busy (in use by another process); try again later',
};

/** What the failed call was doing, for the message: "cannot read", "cannot write", ... */
const ACTIONS: Record<string, string> = {
  open: 'cannot open',
  read: 'cannot read',
  write: 'cannot write',
  rename: 'cannot write',
  mkdir: 'cannot create folder',
  scandir: 'cannot list folder',
  opendir: 'cannot list folder',
  stat: 'cannot access',
  lstat: 'cannot access',
  unlink: 'cannot remove',
  rm: 'cannot remove',
  copyfile: 'cannot copy',
  fsync: 'cannot write',
  close: 'cannot write',
};

/** The codes this module words. */
export const FS_ERROR_CODES: readonly string[] = Object.keys(REASONS);

/** True for an error from Node's file-system calls with a code this module words. */
function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).code! in REASONS;
}

/** The reason alone ("permission denied; check ..."), for messages that name the path their own way. */
export function fsReason(e: unknown): string {
  return isFsError(e) ? REASONS[e.code!]! : (e as Error)?.message ?? String(e);
}

/** The C library's words for the codes (strerror), as HDF5 reports a failed write. */
const STRERROR: Record<string, string> = {
  'No space left on device': 'ENOSPC',
  'Disk quota exceeded': 'EDQUOT',
  'Input/output error': 'EIO',
  'I/O error': 'EIO', // musl's wording (h5wasm's C library)
  'Permission denied': 'EACCES',
  'Operation not permitted': 'EPERM',
  'Read-only file system': 'EROFS',
  'File too large': 'EFBIG',
  'Is a directory': 'EISDIR',
  'Not a directory': 'ENOTDIR',
};

/** The reason for an error the C library describes by its strerror text ("No space left on device"). */
export function strerrorReason(text: string): string {
  const code = STRERROR[text];
  return code ? REASONS[code]! : text;
}

/** A temporary path of the atomic writes (`DIR/.NAME.tmp-PID-N`) as the path the user gave (`DIR/NAME`). */
export function userPath(p: string): string {
  const m = /^\.(.+)\.tmp-\d+-\d+$/.exec(basename(p));
  return m ? join(dirname(p), m[1]!) : p;
}

/**
 * One line for a file-system error: "cannot write out/m.h5: no space left on the device; ...".
 * `path` names the file when the error does not (a read on a descriptor); for a rename the
 * destination is named (the source is the atomic writes' temporary file). Null for other errors.
 */
export function fsErrorMessage(e: unknown, path?: string): string | null {
  if (!isFsError(e)) return null;
  const code = e.code!;
  const syscall = e.syscall ?? '';
  const raw = syscall === 'rename' && typeof (e as unknown as { dest?: unknown }).dest === 'string' ? (e as unknown as { dest: string }).dest : (e.path ?? path);
  const action = ACTIONS[syscall] ?? 'cannot access';
  const where = raw === undefined ? `(${code})` : userPath(String(raw));
  return `${action} ${where}: ${REASONS[code]}`;
}

/** fsErrorMessage as a TlError (exit 1), or null for other errors. */
export function fsTlError(e: unknown, path?: string): TlError | null {
  const m = fsErrorMessage(e, path);
  return m === null ? null : new TlError(m);
}
