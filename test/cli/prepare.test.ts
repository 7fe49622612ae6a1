import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, TINY } from './run.js';

describe('tl-scratch prepare', () => {
  it('writes neon-format train.h5/test.h5 from a built-in set that train reads', () => {
    const d = mkdtempSync(join(tmpdir(), 'tl-prepare-'));
    const r = cli(['prepare', '--builtin', 'fashion-tshirt-shirt', '--per_class', '6', '--size', '32', '--out', 'fashion'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/prepared \d+ of \d+ images/);
    // Not a terminal (a pipe): plain progress lines, the last at the end, no carriage returns.
    expect(r.stdout).toMatch(/^prepare: 2012\/2012 images \(\d+\.\ds\)\nprepared /m);
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
});
