import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TlError } from '../../src/util/errors.js';

export const FIX = resolve(__dirname, '..', 'fixtures', 'data');
export const fix = (...p: string[]): string => join(FIX, ...p);

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tl-data-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Run `f` (sync or async) and return the TlError it throws; fail otherwise. */
export async function tlError(f: () => unknown): Promise<TlError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof TlError) return e;
    throw new Error(`expected a TlError, got ${(e as Error)?.stack ?? String(e)}`);
  }
  throw new Error('expected a TlError, nothing was thrown');
}
