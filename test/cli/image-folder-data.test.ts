// train --data_root DIR with DIR a folder of class folders of images (src/cli/image-folder-data.ts):
// prepared once into DIR/.tl-cache, reused while the folder is unchanged, prepared again when it changes.
import { copyFileSync, cpSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, TINY, tinyWorkspace } from './run.js';

const { data, dir } = tinyWorkspace('tl-folder-data-');
const FOLDER = resolve(__dirname, '../fixtures/data/folder');

describe('train --data_root: a folder of class folders of images', () => {
  it('is prepared into DIR/.tl-cache once, reused while unchanged, prepared again when a file changes; eval reads it too', () => {
    const d = dir('folder');
    cpSync(FOLDER, join(d, 'imgs'), { recursive: true });
    const args = ['train', '--data_root', 'imgs', '--image_size', '32', '-e', '1', '-z', '2', ...TINY, '--no_progress_bar', '--save_path', 'ck.h5'];
    const first = cli(args, d);
    expect(first.stderr).toContain('without --serialize'); // the save rule's warning, nothing else
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('data: image folder imgs is not prepared yet: preparing it into imgs/.tl-cache (32×32 rgb, 20% of each class for testing; reused while the folder is unchanged)\n');
    expect(first.stdout).toMatch(/^prepared 9 images of 2 classes \(a_red, b_blue\); skipped 3, listed in .*skipped\.txt$/m);
    expect(first.stdout).toContain('data: imgs/.tl-cache: 7 training, 2 test examples of shape (3, 32, 32), 2 classes\n');
    const cached = join(d, 'imgs', '.tl-cache', 'train.h5');
    const mtime = statSync(cached).mtimeMs;

    const again = cli(args, d);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('data: image folder imgs is unchanged: reusing imgs/.tl-cache (32×32 rgb; delete it to prepare again)\n');
    expect(again.stdout).not.toContain('prepared 9');
    expect(statSync(cached).mtimeMs).toBe(mtime);

    // one more image in a class: prepared again, with it
    copyFileSync(join(d, 'imgs', 'a_red', 'r1.png'), join(d, 'imgs', 'a_red', 'r6.png'));
    const changed = cli(args, d);
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('data: image folder imgs has changed: preparing it into imgs/.tl-cache');
    expect(changed.stdout).toMatch(/^prepared 10 images of 2 classes/m);

    // another size is another preparation
    const bigger = cli([...args.slice(0, 3), '--image_size', '64', ...args.slice(5)], d);
    expect(bigger.code).toBe(0);
    expect(bigger.stdout).toContain('preparing it into imgs/.tl-cache (64×64 rgb');

    // eval prepares the folder at the checkpoint's size
    const e = cli(['eval', '--model_file', 'ck.h5', '--data_root', 'imgs', '-z', '2', '--no_progress_bar'], d);
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    expect(e.stdout).toContain('(64×64 rgb');
    expect(e.stdout).toMatch(/Accuracy = \d+\.\d%/);
  }, 300_000);

  it('is prepared at the input of the source model (a checkpoint) or of the checkpoint resumed, unless typed', () => {
    const d = dir('from-model');
    cpSync(FOLDER, join(d, 'imgs'), { recursive: true });
    cpSync(FOLDER, join(d, 'other'), { recursive: true });
    const common = ['-e', '1', '-z', '2', ...TINY, '--no_progress_bar'];
    expect(cli(['train', '--data_root', 'imgs', '--image_size', '32', '--channels', 'gray', ...common, '--save_path', 'gray.h5'], d).code).toBe(0);
    const src = cli(['train', '--data_root', 'other', '--source_model', 'gray.h5', ...common], d);
    expect(src.stderr).toBe('');
    expect(src.code).toBe(0);
    expect(src.stdout).toContain('data: --image_size 32 and --channels gray from the source model gray.h5 (its input); type the flag to override\n');
    expect(src.stdout).toContain('preparing it into other/.tl-cache (32×32 gray');
    // gray.h5 is a transfer model: its fc6_new takes 32×32 images' features, so at 64×64 it is skipped
    const typed = cli(['train', '--data_root', 'other', '--source_model', 'gray.h5', '--image_size', '64', '--channels', 'gray', ...common, '--mismatch', 'skip'], d);
    expect(typed.stderr).toBe('');
    expect(typed.code).toBe(0);
    expect(typed.stdout).toContain("Skipped layer # 44 'fc6_new' (W has shape [16, 128] in the model but [16, 32] in the file): initialized\n");
    expect(typed.stdout).not.toContain('from the source model gray.h5 (its input)');
    expect(typed.stdout).toContain('data: image folder other was prepared at 32×32 gray: preparing it into other/.tl-cache (64×64 gray');
    const resumed = cli(['train', '--data_root', 'imgs', '--model_file', 'gray.h5', '-e', '2', '-z', '2', '--no_progress_bar'], d);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('data: --image_size 32 and --channels gray from the checkpoint gray.h5 (its input); type the flag to override\n');
    expect(resumed.stdout).toContain('data: image folder imgs is unchanged: reusing imgs/.tl-cache (32×32 gray');
  }, 300_000);

  it('--image_size with a prepared --data_root is a one-line usage error', () => {
    const r = cli(['train', '--data_root', data, '--image_size', '32', '-e', '1', ...TINY], dir('prepared'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`tl-scratch: --image_size applies to a --data_root that is a folder of class folders of images; ${data} is already prepared (give the size and channels to 'tl-scratch prepare')\n`);
  });
});
