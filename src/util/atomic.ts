import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * A temporary path beside `path` (same directory, so rename is atomic on one file system).
 * The pid and a counter keep two writers in one process or two processes apart.
 */
let counter = 0;
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter++}`);
}

/**
 * Write a file so that readers see either the old content or the new, never half of it:
 * `write(tmp)` produces the file at a temporary path, which is then renamed over `path`.
 * If `write` throws, the temporary file is removed and `path` is untouched.
 */
export async function writeAtomic(path: string, write: (tmpPath: string) => void | Promise<void>): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await write(tmp);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** writeAtomic for content already in memory. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
