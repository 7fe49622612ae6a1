// Faults during the CLI's writes, end to end: every file the CLI writes (checkpoint, output
// file, inference file, export, prepare's data, the report, predict's table) with a fault
// injected into its atomic write (TL_TEST_FAULT, src/util/fault-inject.ts): one line, exit 1,
// the previous file intact, no temporary left. Two processes writing one file at once leave
// one writer's file whole, never a mix; prepare killed with SIGKILL leaves nothing under the
// final names. (The full matrix of codes and places, in process: test/util/write-faults.test.ts.)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, cli, TINY, tinyWorkspace } from './run.js';

const { work, data, dir } = tinyWorkspace('tl-wfault-cli-');
const FOLDER = resolve(__dirname, '../fixtures/data/folder');

interface Run { code: number | null; signal: NodeJS.Signals | null; stderr: string }

/** The CLI in a child process (asynchronous, so that several run at once), with extra environment. */
function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('error', fail);
    p.on('close', (code, signal) => done({ code, signal, stderr }));
  });
}

beforeAll(() => {
  const t = cli(['train', '--data_root', data, '-e', '1', '-z', '5', ...TINY, '--save_path', 'm.h5', '--serialize', '1', '--no_progress_bar', '--inference_file', 'm.txt'], work);
  if (t.code !== 0) throw new Error(t.stderr);
}, 120_000);

describe('a fault while the CLI writes a file', () => {
  const m = () => join(work, 'm.h5');
  // [what, file it writes, fault, reason in the message, the command]
  const cases: [string, string, string, string, () => string[]][] = [
    ['checkpoint', 'ck.h5', 'ENOSPC:write:5', 'no space left on the device', () => ['train', '--data_root', data, '-e', '1', '-z', '5', ...TINY, '--save_path', 'ck.h5', '--serialize', '1', '--no_progress_bar']],
    ['output file', 'out.h5', 'EIO:write:3', 'input/output error', () => ['train', '--data_root', data, '-e', '1', '-z', '5', ...TINY, '--output_file', 'out.h5', '--no_progress_bar']],
    ['inference file', 'inf.txt', 'EACCES:rename:1', 'permission denied', () => ['eval', '--model_file', m(), '--data_root', data, '--inference_file', 'inf.txt', '--no_progress_bar']],
    ['export', 'x.onnx', 'ENOSPC:write:1', 'no space left on the device', () => ['export', '--model_file', m(), '--out', 'x.onnx']],
    ['prepare', 'train.h5', 'EIO:rename:1', 'input/output error', () => ['prepare', '--builtin', 'mnist', '--max_images', '20', '--out', '.', '--no_progress_bar']],
    ['report', 'index.md', 'EACCES:open:1', 'permission denied', () => ['train', '--data_root', data, '--experiment', 'all', '-e', '1', '-z', '5', ...TINY, '--source_model', m(), '--report_dir', '.', '--no_progress_bar']],
    ['predict table', 'p.csv', 'ENOSPC:rename:1', 'no space left on the device', () => ['predict', '--model_file', m(), '-o', 'p.csv', join(FOLDER, 'a_red', 'r1.png')]],
  ];
  it.concurrent.each(cases)('%s (%s, %s): one line, exit 1, the previous file intact, no temporary', async (what, file, fault, reason, args) => {
    const d = dir(`fault-${what.replace(/\W/g, '')}`);
    writeFileSync(join(d, file), `previous ${file}`);
    const r = await run(args(), d, { TL_TEST_FAULT: fault, TL_TEST_FAULT_FILE: file });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^tl-scratch: /);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toContain(reason);
    expect(lines[0]).not.toMatch(/internal error|tmp-\d|injected/);
    expect(readFileSync(join(d, file), 'utf8')).toBe(`previous ${file}`);
    expect(readdirSync(d).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 180_000);
});

describe('two runs writing the same file at once', () => {
  // Two processes write the same path through writeAtomic, 'a' in 40 chunks 10 ms apart and
  // 'b' in 25 chunks 16 ms apart, so that their writes overlap in time: the file is then one
  // writer's chunks, never a mix (writing to the path itself, or to a temporary name both
  // share, mixes them: b's chunks over the start of a's, or a's tail after b's).
  it('the file is one writer\'s, whole', async () => {
    const d = dir('concurrent');
    const target = join(d, 'same.bin');
    const writer = (letter: string, chunks: number, ms: number) => `
      const { writeAtomic } = await import(${JSON.stringify(resolve(__dirname, '../../dist/src/util/atomic.js'))});
      const fs = await import('node:fs');
      await writeAtomic(${JSON.stringify(target)}, async (tmp) => {
        const fd = fs.openSync(tmp, 'w');
        for (let i = 0; i < ${chunks}; i++) {
          fs.writeSync(fd, Buffer.alloc(4096, ${JSON.stringify(letter)}));
          await new Promise((r) => setTimeout(r, ${ms}));
        }
        fs.closeSync(fd);
      });`;
    const child = (letter: string, chunks: number, ms: number) => new Promise<number | null>((done) => {
      spawn(process.execPath, ['--input-type=module', '-e', writer(letter, chunks, ms)], { stdio: 'inherit' }).on('close', done);
    });
    for (let round = 0; round < 3; round++) {
      expect(await Promise.all([child('a', 40, 10), child('b', 25, 16)])).toEqual([0, 0]);
      const got = readFileSync(target, 'latin1');
      expect(got === 'a'.repeat(40 * 4096) || got === 'b'.repeat(25 * 4096), `round ${round}: not one writer's file (${got.length} bytes, starts '${got[0]}', ends '${got.at(-1)}')`).toBe(true);
      expect(readdirSync(d)).toEqual(['same.bin']);
    }
  }, 120_000);
});

describe('kill -9 during prepare', () => {
  it('leaves no file under the final names; the next prepare removes the dead run\'s temporary', async () => {
    const d = dir('killed');
    const out = join(d, 'out');
    mkdirSync(out);
    const p = spawn(process.execPath, [CLI, 'prepare', '--builtin', 'mnist', '--out', out, '--no_progress_bar'], { cwd: d, stdio: 'ignore' });
    const closed = new Promise<NodeJS.Signals | null>((done) => p.on('close', (_c, s) => done(s)));
    // wait until it is writing train.h5's temporary, then a little more, then SIGKILL
    const t0 = Date.now();
    while (!readdirSync(out).some((f) => f.startsWith('.train.h5.tmp-')) && Date.now() - t0 < 120_000 && p.exitCode === null) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(readdirSync(out).some((f) => f.startsWith('.train.h5.tmp-')), 'prepare never started writing').toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    p.kill('SIGKILL');
    expect(await closed).toBe('SIGKILL');
    expect(existsSync(join(out, 'train.h5'))).toBe(false);
    expect(existsSync(join(out, 'test.h5'))).toBe(false);
    const left = readdirSync(out);
    expect(left.length).toBeGreaterThan(0);
    // temporaries of the two files, and prepare's own restart state (.prepare-partial: finished shards)
    expect(left.every((f) => /^\.(train|test)\.h5\.tmp-\d+-\d+$/.test(f) || f === '.prepare-partial'), left.join(', ')).toBe(true);
    // a new run to the same folder finishes and removes the temporary of the killed one
    const again = await run(['prepare', '--builtin', 'mnist', '--max_images', '20', '--out', out, '--no_progress_bar'], d);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(out).filter((f) => !f.startsWith('.prepare-partial')).sort(), readdirSync(out).join(', ')).toEqual(['test.h5', 'train.h5']);
  }, 240_000);
});
