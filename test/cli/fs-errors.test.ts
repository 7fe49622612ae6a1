// A folder where a file is expected, a file where a folder is, a full disk: one line each
// naming the path, a non-zero exit, never "internal error", nothing half-written.
// (Tests run as root, where chmod 000 does not stop reads: EACCES/EPERM are covered by the
// unit tests of src/util/fs-errors.ts, which words every code in one place.)
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, TINY, tinyWorkspace, type Result } from './run.js';

const { work, data, dir } = tinyWorkspace('tl-fserr-');

function expectOneLine(r: Result, pattern: RegExp | string, code = 1): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  if (typeof pattern === 'string') expect(lines[0]).toContain(pattern);
  else expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

beforeAll(() => {
  mkdirSync(join(work, 'adir'));
  writeFileSync(join(work, 'afile'), 'not a folder');
  const t = cli(['train', '--data_root', data, '-e', '1', '-z', '5', ...TINY, '--save_path', 'm.h5', '--serialize', '1', '--no_progress_bar', '--inference_file', 'm.txt'], work);
  if (t.code !== 0) throw new Error(t.stderr);
}, 120_000);

describe('a folder where a file is expected', () => {
  const cases: [string, string[], string][] = [
    ['eval --model_file DIR', ['eval', '--model_file', 'adir', '--data_root', data], '--model_file adir: is a directory, expected a file'],
    ['train --model_file DIR', ['train', '--model_file', 'adir', '--data_root', data, ...TINY], '--model_file adir: is a directory, expected a file'],
    ['train --source_model DIR', ['train', '--source_model', 'adir', '--data_root', data, ...TINY], 'weight file adir: is a directory, expected a file'],
    ['predict --model_file DIR', ['predict', '--model_file', 'adir', 'afile'], '--model_file adir: is a directory, expected a file'],
    ['export --model_file DIR', ['export', '--model_file', 'adir', '--format', 'onnx', '--out', 'x.onnx'], 'adir: is a directory, expected a file'],
    ['inspect DIR', ['inspect', 'adir'], 'weight file adir: is a directory, expected a file'],
    ['demo --source_model DIR', ['demo', '--source_model', 'adir'], 'adir: is a directory, expected a file'],
    ['eval --inference_file DIR', ['eval', '--model_file', 'm.h5', '--data_root', data, '--inference_file', 'adir'], '--inference_file adir: is a folder; give a file name'],
    ['train --save_path DIR', ['train', '--data_root', data, ...TINY, '--save_path', 'adir', '--serialize', '1'], '--save_path adir: is a folder; give a file name'],
    ['train --output_file DIR', ['train', '--data_root', data, ...TINY, '--output_file', 'adir'], '--output_file adir: is a folder; give a file name'],
    ['export --out DIR', ['export', '--model_file', 'm.h5', '--format', 'onnx', '--out', 'adir'], '--out adir: is a folder; give a file name'],
    ['predict -o DIR.json', ['predict', '--model_file', 'm.h5', '-o', 'adir.json', 'afile'], '-o adir.json: is a folder; give a file name'],
  ];
  beforeAll(() => mkdirSync(join(work, 'adir.json')));
  for (const [title, args, message] of cases) {
    it(title, () => {
      const r = cli(args, work);
      expectOneLine(r, message);
      expect(readdirSync(work).filter((f) => f.includes('.tmp') || f === 'inference.txt' || f === 'x.onnx')).toEqual([]);
    });
  }
});

describe('a file where a folder is expected', () => {
  const cases: [string, string[], RegExp | string, number?][] = [
    ['eval --data_root FILE', ['eval', '--model_file', 'm.h5', '--data_root', 'afile'], '--data_root afile: is a file, where a folder holding test.h5 is expected', 2],
    ['train --data_root FILE', ['train', '--data_root', 'afile', ...TINY], '--data_root afile: is a file, where a folder holding train.h5 and test.h5 is expected', 2],
    ['eval --model_file FILE/x', ['eval', '--model_file', 'afile/x.h5', '--data_root', data], '--model_file afile/x.h5: cannot access: a part of this path is a file, where a folder is expected'],
    ['eval --inference_file FILE/x', ['eval', '--model_file', 'm.h5', '--data_root', data, '--inference_file', 'afile/x.txt'], /^tl-scratch: --inference_file afile\/x\.txt: cannot write there, .*afile is not a folder$/],
    ['train --save_path FILE/x', ['train', '--data_root', data, ...TINY, '--save_path', 'afile/x.h5', '--serialize', '1'], /^tl-scratch: --save_path afile\/x\.h5: cannot write there, .*afile is not a folder$/],
    ['export --out FILE/x', ['export', '--model_file', 'm.h5', '--format', 'onnx', '--out', 'afile/x.onnx'], /^tl-scratch: --out afile\/x\.onnx: cannot write there, .*afile is not a folder$/],
    ['prepare --out FILE', ['prepare', '--builtin', 'mnist', '--out', 'afile', '--max_images', '10'], /^tl-scratch: cannot create folder .*afile: already exists/],
    ['prepare --out FILE/sub', ['prepare', '--builtin', 'mnist', '--out', 'afile/sub', '--max_images', '10'], /^tl-scratch: cannot create folder .*afile\/sub: a part of this path is a file, where a folder is expected; check the path$/],
    ['predict IMAGE under a file', ['predict', '--model_file', 'm.h5', 'afile/x.png'], 'predict: afile/x.png: no such file or folder'],
  ];
  for (const [title, args, message, code] of cases) {
    it(title, () => expectOneLine(cli(args, work), message, code ?? 1));
  }
});

/** Mount a 64 KiB tmpfs at `at` and fill it (root only); false when this machine does not allow it. */
function smallFullDisk(at: string): boolean {
  mkdirSync(at, { recursive: true });
  if (process.getuid?.() !== 0 || spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', at]).status !== 0) return false;
  try {
    writeFileSync(join(at, 'filler'), new Uint8Array(1 << 20));
  } catch {
    // ENOSPC: the disk is now full
  }
  return true;
}

describe('a full disk', () => {
  it('checkpoint, inference file and export each fail with one line; the previous files are kept; no temporary left', (ctx) => {
    const d = dir('full');
    const disk = join(d, 'disk');
    if (!smallFullDisk(disk)) ctx.skip();
    try {
      // the previous files were written before the disk filled: remove the filler, write them, fill again
      spawnSync('rm', [join(disk, 'filler')]);
      for (const f of ['ck.h5', 'inf.txt', 'x.onnx']) writeFileSync(join(disk, f), `previous ${f}`);
      try {
        writeFileSync(join(disk, 'filler'), new Uint8Array(1 << 20));
      } catch {
        // full again
      }
      const t = cli(['train', '--data_root', data, '-e', '1', '-z', '5', ...TINY, '--save_path', join(disk, 'ck.h5'), '--serialize', '1', '--no_progress_bar'], d);
      expectOneLine(t, new RegExp(`^tl-scratch: checkpoint ${join(disk, 'ck.h5')}: cannot (create the file|write): no space left on the device; free some space or write somewhere else$`));
      const e = cli(['eval', '--model_file', join(work, 'm.h5'), '--data_root', data, '-z', '5', '--no_progress_bar', '--inference_file', join(disk, 'inf.txt')], d);
      expectOneLine(e, `cannot write ${join(disk, 'inf.txt')}: no space left on the device`);
      const x = cli(['export', '--model_file', join(work, 'm.h5'), '--format', 'onnx', '--out', join(disk, 'x.onnx')], d);
      expectOneLine(x, `cannot write ${join(disk, 'x.onnx')}: no space left on the device`);
      for (const f of ['ck.h5', 'inf.txt', 'x.onnx']) expect(readFileSync(join(disk, f), 'utf8')).toBe(`previous ${f}`);
      expect(readdirSync(disk).sort()).toEqual(['ck.h5', 'filler', 'inf.txt', 'x.onnx']);
      // room for the checkpoint's start but not its weights: HDF5 fails mid-file (h5wasm does not throw; openH5's close does)
      spawnSync('rm', [join(disk, 'filler')]);
      const t2 = cli(['train', '--data_root', data, '-e', '1', '-z', '5', ...TINY, '--save_path', join(disk, 'ck.h5'), '--serialize', '1', '--no_progress_bar'], d);
      expectOneLine(t2, `checkpoint ${join(disk, 'ck.h5')}: cannot write: no space left on the device; free some space or write somewhere else`);
      expect(readFileSync(join(disk, 'ck.h5'), 'utf8')).toBe('previous ck.h5');
      expect(readdirSync(disk).sort()).toEqual(['ck.h5', 'inf.txt', 'x.onnx']);
    } finally {
      spawnSync('umount', [disk]);
    }
  }, 120_000);
});
