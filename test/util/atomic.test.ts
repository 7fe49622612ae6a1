import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAtomic, writeFileAtomicSync } from '../../src/util/atomic.js';

describe('atomic writes', () => {
  it('replaces the file and leaves no temporary behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-atomic-'));
    const p = join(dir, 'a.txt');
    writeFileSync(p, 'old');
    writeFileAtomicSync(p, 'new');
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });
  it('keeps the previous content when the writer fails midway', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-atomic-'));
    const p = join(dir, 'ckpt.h5');
    writeFileSync(p, 'previous checkpoint');
    await expect(
      writeAtomic(p, (tmp) => {
        writeFileSync(tmp, 'half');
        throw new Error('crash mid-write');
      }),
    ).rejects.toThrow('crash mid-write');
    expect(readFileSync(p, 'utf8')).toBe('previous checkpoint');
    expect(readdirSync(dir)).toEqual(['ckpt.h5']);
  });
});
