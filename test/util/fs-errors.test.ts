// File-system errors worded in one place: each code gives one line naming the path (the
// user's, never the atomic writes' temporary) and what to do.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAtomic, writeFileAtomicSync } from '../../src/util/atomic.js';
import { TlError } from '../../src/util/errors.js';
import { FS_ERROR_CODES, fsErrorMessage, fsTlError, strerrorReason, userPath } from '../../src/util/fs-errors.js';

/** An error as Node's fs calls make them. */
function errno(code: string, syscall: string, path?: string, dest?: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: something, ${syscall} '${path}'`) as NodeJS.ErrnoException & { dest?: string };
  Object.assign(e, { code, syscall, path, dest });
  return e;
}

/** What a call threw. */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('nothing was thrown');
}

describe('fsErrorMessage', () => {
  it('words every code it knows, naming the path, on one line', () => {
    for (const code of ['EISDIR', 'ENOTDIR', 'EACCES', 'EPERM', 'ENOSPC', 'EIO', 'ENOENT']) expect(FS_ERROR_CODES).toContain(code);
    for (const code of FS_ERROR_CODES) {
      const m = fsErrorMessage(errno(code, 'open', 'some/file.h5'))!;
      expect(m, code).toMatch(/^cannot open some\/file\.h5: \S/);
      expect(m).not.toContain('\n');
      expect(m).not.toContain(code); // words, not the code
    }
    expect(fsErrorMessage(errno('EACCES', 'open', 'a.txt'))).toBe("cannot open a.txt: permission denied; check its permissions (and its folder's) or choose another path");
    expect(fsErrorMessage(errno('ENOSPC', 'write', 'out.onnx'))).toBe('cannot write out.onnx: no space left on the device; free some space or write somewhere else');
    expect(fsErrorMessage(errno('EIO', 'read', 'x.h5'))).toMatch(/^cannot read x\.h5: input\/output error/);
  });

  it('names the destination of a rename and the target of a temporary file; a path given when the error has none', () => {
    expect(fsErrorMessage(errno('EISDIR', 'rename', 'd/.m.h5.tmp-12-0', 'd/m.h5'))).toBe('cannot write d/m.h5: is a folder, where a file is expected; give a file name');
    expect(fsErrorMessage(errno('ENOTDIR', 'open', 'f/.x.txt.tmp-99-3'))).toMatch(/^cannot open f\/x\.txt: a part of this path is a file/);
    expect(fsErrorMessage(errno('EISDIR', 'read', undefined), 'models')).toMatch(/^cannot read models: is a folder/);
    expect(fsErrorMessage(errno('EISDIR', 'read', undefined))).toMatch(/^cannot read \(EISDIR\): is a folder/);
    expect(userPath('a/b/.c.d.tmp-1-2')).toBe('a/b/c.d');
    expect(userPath('a/b/c.d')).toBe('a/b/c.d');
  });

  it('leaves other errors alone', () => {
    expect(fsErrorMessage(new Error('boom'))).toBeNull();
    expect(fsErrorMessage(errno('ESOMETHING', 'open', 'x'))).toBeNull();
    expect(fsTlError('text')).toBeNull();
    expect(fsTlError(errno('ENOSPC', 'write', 'x'))).toBeInstanceOf(TlError);
    expect(strerrorReason('No space left on device')).toMatch(/^no space left/);
    expect(strerrorReason('Something new')).toBe('Something new');
  });

  it('words the real errors of a folder where a file is expected and a file where a folder is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-fserr-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'file'), 'x');
    expect(fsErrorMessage(thrown(() => readFileSync(join(dir, 'sub'))), join(dir, 'sub'))).toBe(`cannot read ${join(dir, 'sub')}: is a folder, where a file is expected; give a file name`);
    expect(fsErrorMessage(thrown(() => readFileSync(join(dir, 'file', 'x'))))).toMatch(/^cannot open .*file\/x: a part of this path is a file/);
    expect(fsErrorMessage(thrown(() => mkdirSync(join(dir, 'file', 'x'), { recursive: true })))).toMatch(/^cannot create folder .*file\/x: a part of this path is a file/);
  });
});

describe('atomic writes and file-system errors', () => {
  it('a full disk while writing: one TlError naming the file, the temporary removed, the old file kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-fserr-'));
    const p = join(dir, 'ckpt.h5');
    writeFileSync(p, 'previous');
    const e = await writeAtomic(p, (tmp) => {
      writeFileSync(tmp, 'half');
      throw errno('ENOSPC', 'write', tmp);
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TlError);
    expect((e as Error).message).toBe(`cannot write ${p}: no space left on the device; free some space or write somewhere else`);
    expect(readFileSync(p, 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['ckpt.h5']);
  });

  it('a folder at the path, or a file where its folder should be: one TlError each', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-fserr-'));
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'file'), 'x');
    const a = thrown(() => writeFileAtomicSync(join(dir, 'out'), 'data'));
    expect(a).toBeInstanceOf(TlError);
    expect((a as Error).message).toBe(`cannot write ${join(dir, 'out')}: is a folder, where a file is expected; give a file name`);
    const b = thrown(() => writeFileAtomicSync(join(dir, 'file', 'x.txt'), 'data'));
    expect(b).toBeInstanceOf(TlError);
    expect((b as Error).message).toBe(`cannot write ${join(dir, 'file', 'x.txt')}: a part of this path is a file, where a folder is expected; check the path`);
    expect(readdirSync(dir).sort()).toEqual(['file', 'out']);
    expect(readdirSync(join(dir, 'out'))).toEqual([]);
  });

  it('other errors of the writer pass through unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-fserr-'));
    const boom = new Error('boom');
    await expect(writeAtomic(join(dir, 'a'), () => { throw boom; })).rejects.toBe(boom);
  });
});
