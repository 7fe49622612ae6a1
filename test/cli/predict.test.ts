// `tl-scratch predict`: images in, class probabilities out, made as prepare makes rows and
// preprocessed as the checkpoint's model was trained, so they equal eval's outputs.
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { h5wasm } from '../../src/formats/h5.js';
import { cli, TINY } from './run.js';

const work = mkdtempSync(join(tmpdir(), 'tl-predict-'));
const FOLDER = resolve(__dirname, '../fixtures/data/folder');
const oneLine = (s: string) => expect(s.trim().split('\n')).toHaveLength(1);

interface Json { model_file: string; preprocess: string; classes: string[]; predictions: { file: string; predicted: string; predicted_index: number; probabilities: number[] }[]; skipped: { file: string; reason: string }[] }

/** Rows of eval's inference file: probabilities and target. */
function inferenceRows(path: string): number[][] {
  return readFileSync(path, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l.slice(0, l.lastIndexOf(']') + 1)) as number[]);
}

beforeAll(() => {
  // the fixture's class folders without its broken image, text file and folder named like an image
  for (const cls of ['a_red', 'b_blue']) {
    mkdirSync(join(work, 'imgs', cls), { recursive: true });
    for (const f of readdirSync(join(FOLDER, cls))) if (/\.(jpe?g|png)$/i.test(f) && f !== 'broken.png' && f !== 'sub.jpg') cpSync(join(FOLDER, cls, f), join(work, 'imgs', cls, f));
  }
  const p = cli(['prepare', '--image_folder', 'imgs', '--out', 'data', '--size', '32', '--test_fraction', '0.4', '--no_progress_bar'], work);
  if (p.code !== 0) throw new Error(p.stderr);
}, 60_000);

describe('tl-scratch predict', () => {
  for (const preprocess of ['neon', 'caffe'] as const) {
    it(`gives eval's probabilities for the same images, as a table, CSV or JSON (${preprocess})`, () => {
      const d = join(work, preprocess);
      mkdirSync(d);
      const t = cli(['train', '--data_root', '../data', '-e', '3', '-z', '2', ...TINY, '--lr', '0.01', '--preprocess', preprocess, '--save_path', 'm.h5', '--serialize', '3', '--no_progress_bar'], d);
      expect(t.stderr).toBe('');
      expect(t.code).toBe(0);
      const e = cli(['eval', '--model_file', 'm.h5', '--data_root', '../data', ...TINY, '-z', '2', '--inference_file', 'eval.txt'], d);
      expect(e.code).toBe(0);

      const j = cli(['predict', '../imgs', '--model_file', 'm.h5', '-o', 'p.json'], d);
      expect(j.stderr).toBe('');
      expect(j.code).toBe(0);
      expect(j.stdout).toContain(`preprocess: ${preprocess} (as stored in the checkpoint; override with --preprocess)`);
      expect(j.stdout).toContain('predict: 9 image(s) written to p.json');
      const json = JSON.parse(readFileSync(join(d, 'p.json'), 'utf8')) as Json;
      expect(json.classes).toEqual(['a_red', 'b_blue']);
      expect(json.preprocess).toBe(preprocess);
      expect(json.predictions.map((p) => p.file)).toEqual([
        '../imgs/a_red/r1.png', '../imgs/a_red/r2.png', '../imgs/a_red/r3.PNG', '../imgs/a_red/r4.jpg', '../imgs/a_red/r5.jpeg',
        '../imgs/b_blue/b1.jpg', '../imgs/b_blue/b2.jpg', '../imgs/b_blue/b3.png', '../imgs/b_blue/b4.png',
      ]);
      for (const p of json.predictions) {
        expect(p.probabilities[0]! + p.probabilities[1]!).toBeCloseTo(1, 6);
        expect(p.predicted_index).toBe(p.probabilities[0]! >= p.probabilities[1]! ? 0 : 1);
        expect(p.predicted).toBe(json.classes[p.predicted_index]);
      }
      // every test image's eval output is one of the predictions (test.h5 holds 4 of the 9 images)
      const rows = inferenceRows(join(d, 'eval.txt'));
      expect(rows).toHaveLength(4);
      const nearest = (preds: Json['predictions'], row: number[]) => Math.min(...preds.map((p) => Math.max(...p.probabilities.map((v, k) => Math.abs(v - row[k]!)))));
      for (const row of rows) expect(nearest(json.predictions, row)).toBeLessThan(1e-6);
      // control: the other preprocessing does not reproduce them
      const w = cli(['predict', '../imgs', '--model_file', 'm.h5', '-o', 'w.json', '--preprocess', preprocess === 'neon' ? 'torchvision' : 'neon'], d);
      expect(w.code).toBe(0);
      const wrong = JSON.parse(readFileSync(join(d, 'w.json'), 'utf8')) as Json;
      expect(Math.max(...rows.map((row) => nearest(wrong.predictions, row)))).toBeGreaterThan(1e-5);

      const c = cli(['predict', '../imgs/a_red', '../imgs/b_blue/b1.jpg', '--model_file', 'm.h5', '-o', 'p.csv'], d);
      expect(c.code).toBe(0);
      const csv = readFileSync(join(d, 'p.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
      expect(csv[0]).toEqual(['file', 'predicted', 'predicted_index', 'p_a_red', 'p_b_blue']);
      expect(csv).toHaveLength(1 + 6);
      csv.slice(1).forEach((r, i) => {
        const p = json.predictions[i]!;
        expect(r.slice(0, 3)).toEqual([p.file, p.predicted, String(p.predicted_index)]);
        expect(r.slice(3).map(Number)).toEqual(p.probabilities);
      });

      const table = cli(['predict', '../imgs/b_blue/b3.png', '--model_file', 'm.h5'], d);
      expect(table.code).toBe(0);
      const lines = table.stdout.trim().split('\n');
      expect(lines[1]).toMatch(/^file\s+predicted\s+p\(a_red\)\s+p\(b_blue\)$/);
      expect(lines[2]).toMatch(/^\.\.\/imgs\/b_blue\/b3\.png\s+(a_red|b_blue)\s+0\.\d{4}\s+0\.\d{4}$/);
    });
  }

  it('lists and skips an unreadable image in a folder; fails in one line when none can be read, writing nothing', () => {
    const d = join(work, 'skip');
    mkdirSync(join(d, 'mixed'), { recursive: true });
    mkdirSync(join(d, 'bad'), { recursive: true });
    cpSync(join(FOLDER, 'b_blue', 'b1.jpg'), join(d, 'mixed', 'b1.jpg'));
    cpSync(join(FOLDER, 'b_blue', 'broken.png'), join(d, 'mixed', 'broken.png'));
    cpSync(join(FOLDER, 'b_blue', 'broken.png'), join(d, 'bad', 'broken.png'));
    writeFileSync(join(d, 'bad', 'fake.jpg'), 'not an image');
    expect(cli(['train', '--data_root', '../data', '-e', '1', '-z', '2', ...TINY, '--save_path', 'm.h5', '--serialize', '1', '--no_progress_bar'], d).code).toBe(0);

    const r = cli(['predict', 'mixed', '--model_file', 'm.h5', '-o', 'p.json'], d);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^skipped: mixed\/broken\.png: cannot decode PNG/);
    oneLine(r.stderr);
    const json = JSON.parse(readFileSync(join(d, 'p.json'), 'utf8')) as Json;
    expect(json.predictions.map((p) => p.file)).toEqual(['mixed/b1.jpg']);
    expect(json.skipped.map((s) => s.file)).toEqual(['mixed/broken.png']);

    const n = cli(['predict', 'bad', '--model_file', 'm.h5', '-o', 'none.csv'], d);
    expect(n.code).toBe(1);
    expect(n.stderr).toMatch(/skipped: bad\/broken\.png/);
    expect(n.stderr).toMatch(/skipped: bad\/fake\.jpg: not a JPEG or PNG image/);
    expect(n.stderr.trim().split('\n').at(-1)).toMatch(/^tl-scratch: predict: none of the 2 image\(s\) could be read/);
    expect(n.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(d, 'none.csv'))).toBe(false);
    expect(readdirSync(d).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('bad input: a missing image, model file or empty folder, a non-checkpoint, an unknown output format, an unknown --preprocess: one line each', () => {
    const d = join(work, 'bad');
    mkdirSync(join(d, 'empty'), { recursive: true });
    writeFileSync(join(d, 'empty', 'readme.txt'), 'no images here');
    cpSync(join(FOLDER, 'b_blue', 'broken.png'), join(d, 'broken.png'));
    writeFileSync(join(d, 'fake.jpg'), 'not an image');
    expect(cli(['train', '--data_root', '../data', '-e', '1', '-z', '2', ...TINY, '--save_path', 'm.h5', '--serialize', '1', '--no_progress_bar'], d).code).toBe(0);
    const cases: [string[], number, RegExp][] = [
      [['predict', 'nope.jpg', '--model_file', 'm.h5'], 1, /predict: nope\.jpg: no such file or folder/],
      [['predict', '../imgs', '--model_file', 'nope.h5'], 1, /--model_file nope\.h5: no such file/],
      [['predict', 'empty', '--model_file', 'm.h5'], 1, /folder empty holds no \.jpg, \.jpeg or \.png images/],
      // one unreadable image named on its own: its reason is the one line
      [['predict', 'broken.png', '--model_file', 'm.h5', '-o', 'p.json'], 1, /^tl-scratch: predict: broken\.png: cannot decode PNG .*; nothing written\n$/],
      [['predict', 'fake.jpg', '--model_file', 'm.h5', '-o', 'p.csv'], 1, /^tl-scratch: predict: fake\.jpg: not a JPEG or PNG image; nothing written\n$/],
      [['predict', '../imgs', '--model_file', resolve(__dirname, '../fixtures/formats/torch_vgg.pth')], 2, /predict needs a tl-scratch checkpoint/],
      [['predict', '../imgs', '--model_file', 'm.h5', '-o', 'p.txt'], 2, /-o p\.txt: .*use a \.csv or \.json file name/],
      [['predict', '../imgs', '--model_file', 'm.h5', '--preprocess', 'imagenet'], 2, /--preprocess 'imagenet' is not known/],
      [['predict', '--model_file', 'm.h5'], 2, /missing required argument/],
    ];
    for (const [args, code, msg] of cases) {
      const r = cli(args, d);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // our own errors are one line; commander's add its '(run with --help for usage)'
      if (r.stderr.startsWith('tl-scratch:')) oneLine(r.stderr);
      else expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    }
    expect(readdirSync(d).filter((f) => f.startsWith('p.') || f.includes('.tmp'))).toEqual([]);
  });

  it('an older checkpoint without the data\'s mean needs --data_root, and then predicts as a new one', async () => {
    const d = join(work, 'old');
    mkdirSync(d);
    expect(cli(['train', '--data_root', '../data', '-e', '1', '-z', '2', ...TINY, '--save_path', 'new.h5', '--serialize', '1', '--no_progress_bar'], d).code).toBe(0);
    cpSync(join(d, 'new.h5'), join(d, 'old.h5'));
    await h5wasm.ready;
    const f = new h5wasm.File(join(d, 'old.h5'), 'a');
    f.delete_attribute('input_info');
    f.close();
    const r = cli(['predict', '../imgs', '--model_file', 'old.h5'], d);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/does not record .*pass --data_root DIR/);
    const a = cli(['predict', '../imgs', '--model_file', 'new.h5', '-o', 'a.json'], d);
    const b = cli(['predict', '../imgs', '--model_file', 'old.h5', '--data_root', '../data', ...TINY, '-o', 'b.json'], d);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    expect(a.code).toBe(0);
    const pa = JSON.parse(readFileSync(join(d, 'a.json'), 'utf8')) as Json;
    const pb = JSON.parse(readFileSync(join(d, 'b.json'), 'utf8')) as Json;
    expect(pb.classes).toEqual(['a_red', 'b_blue']);
    expect(pb.predictions).toEqual(pa.predictions);
    rmSync(join(d, 'old.h5'));
  });
});
