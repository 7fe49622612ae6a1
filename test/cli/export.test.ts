// tl-scratch export: a checkpoint from train, exported to both formats, reproduces the
// checkpoint's test pass through eval --model_file (inference files identical), and bad
// input gives one line, a non-zero exit code and no file.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaseLayer, Linear, Model, Pooling, type Tensor } from '../../src/index.js';
import { cli, TINY, writeTinyData } from './run.js';

const work = mkdtempSync(join(tmpdir(), 'tl-export-'));
const data = join(work, 'data');
const ckpt = join(work, 'ckpt.h5');

beforeAll(async () => {
  mkdirSync(data);
  await writeTinyData(data);
  const r = cli(['train', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--save_path', ckpt, '--serialize', '1', '--no_progress_bar', '--inference_file', 'train-inference.txt'], work);
  if (r.code !== 0) throw new Error(`train failed: ${r.stderr}`);
}, 120_000);

function fresh(name: string): string {
  const d = join(work, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** One line on stderr, the given exit code, nothing on stdout about a file written. */
function expectOneLineError(r: { code: number | null; stderr: string }, code: number, pattern: RegExp): void {
  expect(r.code).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^tl-scratch: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('tl-scratch export', () => {
  it('--help lists the flags', () => {
    const r = cli(['export', '--help'], work);
    expect(r.code).toBe(0);
    for (const f of ['--model_file', '--format', '--out', 'safetensors', 'onnx']) expect(r.stdout).toContain(f);
  });

  it('exports a checkpoint to safetensors and ONNX; eval --model_file on either gives the checkpoint\'s inference file exactly', () => {
    const d = fresh('roundtrip');
    for (const [format, file] of [['safetensors', 'm.safetensors'], ['onnx', 'm.onnx']]) {
      const r = cli(['export', '--model_file', ckpt, '--format', format!, '--out', file!], d);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`exported ${file} (${format}`);
    }
    const evalOf = (model: string, out: string) => {
      const r = cli(['eval', '--model_file', model, '--data_root', data, '-z', '4', ...TINY, '--inference_file', out, '--no_progress_bar'], d);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return { stdout: r.stdout, inference: readFileSync(join(d, out), 'utf8') };
    };
    const base = evalOf(ckpt, 'ckpt.txt');
    const st = evalOf('m.safetensors', 'st.txt');
    const onnx = evalOf('m.onnx', 'onnx.txt');
    expect(st.inference).toBe(base.inference);
    expect(onnx.inference).toBe(base.inference);
    const acc = /Accuracy = .*/.exec(base.stdout)![0];
    expect(st.stdout).toContain(acc);
    expect(onnx.stdout).toContain(acc);
  });

  it('--source_model takes the exported file (train imports every conv layer from it)', () => {
    const d = fresh('source');
    expect(cli(['export', '--model_file', ckpt, '--format', 'safetensors', '--out', 'm.safetensors'], d).code).toBe(0);
    const r = cli(['train', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--source_model', 'm.safetensors', '--experiment', 'extract', '--no_progress_bar'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Successfully copied layer # \d+ 'conv5_3'/);
    expect(r.stdout).toMatch(/Successfully copied layer # \d+ 'cls_imdb_wiki_face_bias'/);
  });

  it('without --format, the format comes from --out\'s extension; neither saying it: one line, exit 2, no file', () => {
    const d = fresh('by-extension');
    for (const [file, format] of [['m.onnx', 'onnx'], ['M.SafeTensors', 'safetensors']]) {
      const r = cli(['export', '--model_file', ckpt, '--out', file!], d);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`exported ${file} (${format}`);
    }
    expectOneLineError(cli(['export', '--model_file', ckpt, '--out', 'm.bin'], d), 2,
      /^tl-scratch: export: --out m\.bin does not say the format \(extension '\.bin'\); name the file \.safetensors or \.onnx, or pass --format safetensors or --format onnx$/);
    expectOneLineError(cli(['export', '--model_file', ckpt, '--out', 'model'], d), 2, /--out model does not say the format \(no extension\)/);
    expect(readdirSync(d).sort()).toEqual(['M.SafeTensors', 'm.onnx']);
  });

  it('a weight file trained at 32×32: the input size comes from its first dense layer; a wrong --image_size is named in the error', () => {
    const d = fresh('image-size');
    expect(cli(['export', '--model_file', ckpt, '--out', 'w.safetensors'], d).code).toBe(0);
    const r = cli(['export', '--model_file', 'w.safetensors', '--out', 'w.onnx', ...TINY], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('input: 32×32, from the weights (fc6_new takes 32 = 32·1·1 values after conv5_3); --image_size overrides');
    expectOneLineError(cli(['export', '--model_file', 'w.safetensors', '--out', 'x.onnx', ...TINY, '--image_size', '224'], d), 1,
      /layer 'fc6_new' W has shape \[16, 1568\] in the model but \[16, 32\] in the file .*; the model was built for 224×224 input \(--image_size\): give the size the weights were trained at with --image_size, and check --width_mult and --fc_size$/);
    expect(readdirSync(d).sort()).toEqual(['w.onnx', 'w.safetensors']);
  });

  it('an unknown --format: one line, exit 2, no file', () => {
    const d = fresh('format');
    expectOneLineError(cli(['export', '--model_file', ckpt, '--format', 'tflite', '--out', 'm.tflite'], d), 2, /--format must be one of safetensors, onnx, got 'tflite'/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('an unwritable --out (missing folder, a folder, under a file): one line, exit 1, nothing written', () => {
    const d = fresh('out');
    writeFileSync(join(d, 'plain'), 'x');
    expectOneLineError(cli(['export', '--model_file', ckpt, '--format', 'onnx', '--out', 'missing/m.onnx'], d), 1, /--out missing\/m.onnx: cannot write there, the folder .* does not exist/);
    expectOneLineError(cli(['export', '--model_file', ckpt, '--format', 'onnx', '--out', '.'], d), 1, /--out \.: is a folder/);
    expectOneLineError(cli(['export', '--model_file', ckpt, '--format', 'safetensors', '--out', 'plain/m.safetensors'], d), 1, /is not a folder/);
    expect(readdirSync(d)).toEqual(['plain']);
  });

  it('--out naming the --model_file itself (or a link to it): one line, exit 1, the model file untouched', () => {
    const d = fresh('same');
    const before = readFileSync(ckpt);
    writeFileSync(join(d, 'm.h5'), before);
    symlinkSync(join(d, 'm.h5'), join(d, 'link.h5'));
    expectOneLineError(cli(['export', '--model_file', 'm.h5', '--format', 'safetensors', '--out', './m.h5'], d), 1, /^tl-scratch: --out \.\/m\.h5: is the --model_file; the export would replace the model it reads, give another file name$/);
    expectOneLineError(cli(['export', '--model_file', 'link.h5', '--format', 'onnx', '--out', 'm.h5'], d), 1, /--out m\.h5: is the --model_file/);
    expect(readFileSync(join(d, 'm.h5')).equals(before)).toBe(true);
    expect(readdirSync(d).sort()).toEqual(['link.h5', 'm.h5']);
  });

  it('a missing --model_file: one line, exit 1', () => {
    const d = fresh('missing');
    expectOneLineError(cli(['export', '--model_file', 'nope.h5', '--format', 'onnx', '--out', 'm.onnx'], d), 1, /--model_file nope.h5: no such file/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('a pooling layer that pads more than half its window is refused where it is built, naming it, so no model has a window ONNX cannot express', () => {
    const m = new Model([new Pooling(2, { strides: 2, padding: 2, name: 'wide_pool' }), new Linear(2, { name: 'fc' })]);
    expect(() => m.initialize([1, 4, 4])).toThrow(/layer 'wide_pool'.*padding 2,2 must be at most half the kernel 2×2/);
    const d = fresh('half-padded');
    const ok = new Model([new Pooling(2, { strides: 2, padding: 1, name: 'half_pool' }), new Linear(2, { name: 'fc' })]);
    ok.initialize([1, 4, 4]);
    return ok.save(join(d, 'ck.h5')).then(() => {
      expect(cli(['export', '--model_file', 'ck.h5', '--format', 'onnx', '--out', 'm.onnx'], d).code).toBe(0);
      expect(readdirSync(d).sort()).toEqual(['ck.h5', 'm.onnx']);
    });
  });

  it('a checkpoint with a layer type tl-scratch cannot rebuild: one line, exit 1, no file', async () => {
    class Swish extends BaseLayer {
      readonly className = 'Swish';
      constructor() { super('swish', 'Swish'); }
      protected computeOutShape(s: readonly number[]) { return [...s]; }
      fprop(x: Tensor): Tensor { return x; }
      bprop(dx: Tensor): Tensor { return dx; }
    }
    const d = fresh('custom');
    const m = new Model([new Linear(2, { name: 'fc' }), new Swish()]);
    m.initialize([3]);
    await m.save(join(d, 'ck.h5'));
    expectOneLineError(cli(['export', '--model_file', 'ck.h5', '--format', 'onnx', '--out', 'm.onnx'], d), 1, /layer 'swish' has type 'Swish', which tl-scratch cannot rebuild/);
    expect(readdirSync(d)).toEqual(['ck.h5']);
  });
});
