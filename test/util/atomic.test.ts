import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processExists, tempPathFor, writeAtomic, writeFileAtomicSync } from '../../src/util/atomic.js';

const ROOT = join(__dirname, '..', '..');

/** The pid of a process that has exited (a short child, waited for). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  expect(r.status).toBe(0);
  expect(processExists(r.pid!)).toBe(false);
  return r.pid!;
}

describe('atomic writes', () => {
  it('replaces the file and leaves no temporary behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-atomic-'));
    const p = join(dir, 'a.txt');
    writeFileSync(p, 'old');
    writeFileAtomicSync(p, 'new');
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['a.txt']);
    // parts are written one after another, empty ones included
    writeFileAtomicSync(p, [Buffer.from('ne'), new Uint8Array(0), Buffer.from('wer')]);
    expect(readFileSync(p, 'utf8')).toBe('newer');
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

  // A run killed with kill -9 while writing leaves `.NAME.tmp-PID-N` beside the target; the
  // next write to that path removes it once PID is gone, and nothing else.
  it('the next write removes the temporaries of dead writers of that path, and keeps live ones and other targets\' ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-atomic-'));
    const dead = deadPid();
    const deadTmp = `.ckpt.h5.tmp-${dead}-0`;
    const liveTmp = `.ckpt.h5.tmp-${process.pid}-99`; // this process: alive (as a concurrent writer would be)
    const initTmp = '.ckpt.h5.tmp-1-0'; // pid 1 is alive (EPERM for a normal user: alive too)
    const otherTarget = `.other.h5.tmp-${dead}-0`;
    const lookalike = `.ckpt.h5.tmp-${dead}-0.bak`;
    for (const n of [deadTmp, liveTmp, initTmp, otherTarget, lookalike]) writeFileSync(join(dir, n), 'half a checkpoint');
    await writeAtomic(join(dir, 'ckpt.h5'), (tmp) => writeFileSync(tmp, 'new'));
    expect(readFileSync(join(dir, 'ckpt.h5'), 'utf8')).toBe('new');
    expect(readdirSync(dir).sort()).toEqual([liveTmp, initTmp, otherTarget, lookalike, 'ckpt.h5'].sort());
    // the synchronous writer cleans up the same way
    writeFileSync(join(dir, `.a.txt.tmp-${dead}-3`), 'half');
    writeFileAtomicSync(join(dir, 'a.txt'), 'x');
    expect(readdirSync(dir)).not.toContain(`.a.txt.tmp-${dead}-3`);
    expect(readdirSync(dir)).toContain(liveTmp);
  });

  it('processExists: this process and pid 1 exist, an exited child does not', () => {
    expect(processExists(process.pid)).toBe(true);
    expect(processExists(1)).toBe(true);
    expect(processExists(deadPid())).toBe(false);
  });

  it('.gitignore covers the temporaries (a crash inside the repository leaves nothing to commit)', () => {
    const inGit = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: ROOT, encoding: 'utf8' });
    if (inGit.status !== 0) return; // not a git checkout (an unpacked package): nothing to ignore
    for (const target of ['ckpt.h5', 'data/inference.txt', 'report/loss.svg']) {
      const tmp = tempPathFor(join(ROOT, target)).slice(ROOT.length + 1);
      const r = spawnSync('git', ['check-ignore', '-q', '--no-index', tmp], { cwd: ROOT });
      expect(r.status, `${tmp} is not ignored`).toBe(0);
    }
  });
});
