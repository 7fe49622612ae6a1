import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeNeonH5 } from '../../src/data/h5write.js';
import { cli, TINY } from './run.js';

const FOLDER = resolve(__dirname, '../fixtures/data/folder');

/** One line on stderr starting 'tl-scratch: ', matching `pattern`, exit `code`, no stack trace. */
function oneLineError(r: { code: number | null; stderr: string }, code: number, pattern: RegExp): void {
  expect(r.code).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^tl-scratch: /);
  expect(lines[0]).toMatch(pattern);
}

describe('tl-scratch prepare', () => {
  it('writes neon-format train.h5/test.h5 from a built-in set that train reads', () => {
    const d = mkdtempSync(join(tmpdir(), 'tl-prepare-'));
    const r = cli(['prepare', '--builtin', 'fashion-tshirt-shirt', '--per_class', '6', '--size', '32', '--out', 'fashion'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/prepared \d+ of \d+ images/);
    // Not a terminal (a pipe): plain progress lines, the last at the end, no carriage returns.
    expect(r.stdout).toMatch(/^prepare: 2012\/2012 images \(\d+\.\ds, \d+\.\d img\/s\)\nprepared /m);
    expect(r.stdout).not.toContain('\r');
    expect(r.stdout).toMatch(/train\.h5: 12 examples \(6 \/ 6 per class\)/);
    expect(readdirSync(join(d, 'fashion')).sort()).toEqual(['test.h5', 'train.h5']);
    const t = cli(['train', '--data_root', 'fashion', '-e', '1', '-z', '4', ...TINY, '--no_progress_bar'], d);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/12 training, 2000 test examples of shape \(1, 32, 32\), 2 classes/);
    expect(t.stdout).toMatch(/Accuracy = \d+\.\d%/);
  });
  it('needs exactly one source, and reports a missing image folder in one line', () => {
    const d = mkdtempSync(join(tmpdir(), 'tl-prepare-'));
    expect(cli(['prepare', '--out', 'x'], d)).toMatchObject({ code: 2 });
    const r = cli(['prepare', '--image_folder', 'nope', '--out', 'x'], d);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/nope/);
    mkdirSync(join(d, 'imgs', 'cats'), { recursive: true });
    const e = cli(['prepare', '--image_folder', 'imgs', '--out', 'x'], d);
    expect(e.code).not.toBe(0);
    expect(e.stderr).toMatch(/cats/);
  });

  it('refuses a one-class image folder, and writes nothing', () => {
    const d = mkdtempSync(join(tmpdir(), 'tl-prepare-'));
    cpSync(join(FOLDER, 'a_red'), join(d, 'imgs', 'a_red'), { recursive: true });
    const r = cli(['prepare', '--image_folder', 'imgs', '--out', 'out', '--size', '8', '--no_progress_bar'], d);
    oneLineError(r, 1, /image folder .*imgs: only one class folder \('a_red'\); a classifier needs at least two: put each class's images in a folder of its own/);
    expect(existsSync(join(d, 'out'))).toBe(false);
  });

  it('refuses a folder whose second class cannot be read at all, and writes nothing', () => {
    const d = mkdtempSync(join(tmpdir(), 'tl-prepare-'));
    cpSync(join(FOLDER, 'a_red'), join(d, 'imgs', 'a_red'), { recursive: true });
    mkdirSync(join(d, 'imgs', 'b_bad'));
    for (const n of ['x1.png', 'x2.png', 'x3.jpg', 'x4.jpg', 'x5.png']) writeFileSync(join(d, 'imgs', 'b_bad', n), 'not an image');
    const r = cli(['prepare', '--image_folder', 'imgs', '--out', 'out', '--size', '8', '--no_progress_bar'], d);
    oneLineError(r, 1, /no training image of class 'b_bad' could be read \(e\.g\. .*x\d\.(png|jpg): not a JPEG or PNG image\); a classifier needs at least two classes/);
    expect(existsSync(join(d, 'out'))).toBe(false);
  });

  it('train refuses an HDF5 set with one class (nclass 1, or every label the same)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'tl-prepare-'));
    const x = new Uint8Array(8 * 3 * 32 * 32).fill(7);
    for (const [name, nclass, labels] of [['one', 1, [0, 0, 0, 0, 0, 0, 0, 0]], ['same', 2, [1, 1, 1, 1, 1, 1, 1, 1]]] as const) {
      mkdirSync(join(d, name));
      for (const f of ['train.h5', 'test.h5']) await writeNeonH5(join(d, name, f), { x, labels: Int32Array.from(labels), lshape: [3, 32, 32], nclass, mean: Float32Array.of(7, 7, 7) });
    }
    oneLineError(cli(['train', '--data_root', 'one', '-e', '1', '-z', '4', ...TINY, '--no_progress_bar'], d), 1,
      /one\/train\.h5: nclass is 1; a classifier needs at least two: prepare the data from a folder with a sub-folder of images per class/);
    oneLineError(cli(['train', '--data_root', 'same', '-e', '1', '-z', '4', ...TINY, '--no_progress_bar'], d), 1,
      /same\/train\.h5: every one of its 8 labels is 1 \(of 2 classes declared\); a classifier needs at least two/);
  });

  it('names every skipped file with its reason; the progress and the summary count the same images', () => {
    const d = mkdtempSync(join(tmpdir(), 'tl-prepare-'));
    cpSync(FOLDER, join(d, 'imgs'), { recursive: true });
    const r = cli(['prepare', '--image_folder', 'imgs', '--out', 'out', '--size', '8'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // 12 files: 1 not an image (notes.txt), 11 read, of which 2 are skipped (broken.png, the folder sub.jpg)
    expect(r.stdout).toMatch(/^prepare: 11\/11 images \(\d+\.\ds, \d+\.\d img\/s, 2 skipped\)\nprepared 9 of 11 images from image-folder \(12 files examined: 1 skipped before reading\)$/m);
    expect(r.stdout).toContain('    imgs/b_blue/notes.txt: not an image file (not .jpg, .jpeg or .png)\n');
    expect(r.stdout).toMatch(/^ {4}imgs\/b_blue\/broken\.png: undecodable \(cannot decode PNG/m);
    expect(r.stdout).toMatch(/^ {4}imgs\/a_red\/sub\.jpg: unreadable \(.*EISDIR/m);
    expect(r.stdout).toContain('  every skipped file with its reason: out/skipped.txt\n');
    const list = readFileSync(join(d, 'out', 'skipped.txt'), 'utf8').trim().split('\n');
    expect(list[0]).toBe('file\treason\tdetail');
    expect(list.slice(1).map((l) => l.split('\t').slice(0, 2).join(' ')).sort()).toEqual(
      ['a_red/sub.jpg unreadable', 'b_blue/broken.png undecodable', 'b_blue/notes.txt not an image file'].map((l) => `${join(d, 'imgs')}/${l}`).sort());
    // a rerun with nothing skipped removes the stale list
    const ok = cli(['prepare', '--builtin', 'fashion-tshirt-shirt', '--per_class', '2', '--out', 'out', '--no_progress_bar'], d);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^prepared 2004 of 2004 images from builtin$/m);
    expect(readdirSync(join(d, 'out')).sort()).toEqual(['test.h5', 'train.h5']);
  });

  it('over 20 skipped files: the first 20 on the terminal, then how many more and where the whole list is', () => {
    const d = mkdtempSync(join(tmpdir(), 'tl-prepare-'));
    cpSync(FOLDER, join(d, 'imgs'), { recursive: true });
    for (let i = 0; i < 25; i++) writeFileSync(join(d, 'imgs', 'a_red', `junk${String(i).padStart(2, '0')}.txt`), 'x');
    const r = cli(['prepare', '--image_folder', 'imgs', '--out', 'out', '--size', '8', '--no_progress_bar'], d);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  skipped 26: not an image file\n');
    expect(r.stdout.split('\n').filter((l) => /^ {4}imgs\//.test(l))).toHaveLength(20);
    expect(r.stdout).toContain('    ... and 8 more\n  every skipped file with its reason: out/skipped.txt\n');
    expect(readFileSync(join(d, 'out', 'skipped.txt'), 'utf8').trim().split('\n')).toHaveLength(1 + 28);
  });
});
