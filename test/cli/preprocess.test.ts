// --preprocess: which input convention train, eval and predict use, how the default follows
// the weight file, and that checkpoints carry the choice (older ones count as neon).
import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { h5wasm, openH5, type H5Dataset } from '../../src/formats/h5.js';
import { cli, TINY, tinyWorkspace } from './run.js';

const { data, dir } = tinyWorkspace('tl-pre-');
const FORMATS = resolve(__dirname, '../fixtures/formats');
const oneLine = (s: string) => expect(s.trim().split('\n')).toHaveLength(1);

async function rootAttr(path: string, name: string): Promise<unknown> {
  const f = await openH5(path);
  try {
    return f.attrs[name]?.value;
  } finally {
    f.close();
  }
}

describe('tl-scratch --preprocess', () => {
  it('train records the choice in its checkpoint; eval reuses it and reproduces the inference file; another choice changes the outputs', async () => {
    const d = dir('torchvision');
    const r = cli(['train', '--data_root', data, '-e', '2', '-z', '4', ...TINY, '--lr', '0.01', '--preprocess', 'torchvision', '--save_path', 'c.h5', '--serialize', '2', '--no_progress_bar'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('preprocess: torchvision (set with --preprocess)');
    const info = JSON.parse(String(await rootAttr(join(d, 'c.h5'), 'input_info')));
    expect(info).toMatchObject({ preprocess: 'torchvision', channels: 'rgb', classNames: ['dark', 'bright'] });
    const e = cli(['eval', '--model_file', 'c.h5', '--data_root', data, ...TINY, '--inference_file', 'eval.txt'], d);
    expect(e.code).toBe(0);
    expect(e.stdout).toContain('preprocess: torchvision (as stored in the checkpoint; override with --preprocess)');
    expect(/Accuracy = .*/.exec(e.stdout)![0]).toBe(/Accuracy = .*/.exec(r.stdout)![0]);
    expect(readFileSync(join(d, 'eval.txt'), 'utf8')).toBe(readFileSync(join(d, 'inference.txt'), 'utf8'));
    const n = cli(['eval', '--model_file', 'c.h5', '--data_root', data, ...TINY, '--inference_file', 'neon.txt', '--preprocess', 'neon'], d);
    expect(n.code).toBe(0);
    expect(n.stdout).toContain('preprocess: neon (set with --preprocess)');
    expect(readFileSync(join(d, 'neon.txt'), 'utf8')).not.toBe(readFileSync(join(d, 'inference.txt'), 'utf8'));
  });

  it('defaults to what the starting weight file expects, and says so in one line', () => {
    const d = dir('default');
    const t = cli(['train', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--source_model', join(FORMATS, 'torch_vgg.pth'), '--no_progress_bar'], d);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('preprocess: torchvision (from the PyTorch weight file; override with --preprocess)');
    const s = cli(['train', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--no_progress_bar'], d);
    expect(s.stdout).toContain('preprocess: neon (no weight file to start from; override with --preprocess)');
    const o = cli(['train', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--source_model', join(FORMATS, 'torch_vgg.pth'), '--preprocess', 'caffe', '--no_progress_bar'], d);
    expect(o.stdout).toContain('preprocess: caffe (set with --preprocess)');
    for (const [file, want] of [['torch_vgg.pth', /expects input: torchvision preprocessing \(from the PyTorch weight file\).*\/ std/], ['keras2_model.h5', /expects input: caffe preprocessing \(from the Keras weight file\).*B, G, R = 103\.939, 116\.779, 123\.68/], ['neon_fused.p', /expects input: neon preprocessing \(from the neon weight file\)/], ['tiny_vgg.safetensors', /expects input: torchvision preprocessing \(from the safetensors file with torchvision names\)/]] as const) {
      const i = cli(['inspect', join(FORMATS, file)], d);
      expect(i.code).toBe(0);
      expect(i.stdout).toMatch(want);
    }
  });

  it('an older checkpoint without the record loads and counts as neon; prepare records the channel order', async () => {
    const d = dir('old');
    expect(cli(['train', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--save_path', 'new.h5', '--serialize', '1', '--no_progress_bar'], d).code).toBe(0);
    expect(JSON.parse(String(await rootAttr(join(d, 'new.h5'), 'input_info'))).preprocess).toBe('neon');
    cpSync(join(d, 'new.h5'), join(d, 'old.h5'));
    await h5wasm.ready;
    const f = new h5wasm.File(join(d, 'old.h5'), 'a');
    f.delete_attribute('input_info');
    f.close();
    expect(await rootAttr(join(d, 'old.h5'), 'input_info')).toBeUndefined();
    cli(['eval', '--model_file', 'new.h5', '--data_root', data, ...TINY, '--inference_file', 'a.txt'], d);
    const b = cli(['eval', '--model_file', 'old.h5', '--data_root', data, ...TINY, '--inference_file', 'b.txt'], d);
    expect(b.code).toBe(0);
    expect(b.stdout).toContain('preprocess: neon (the checkpoint predates recorded preprocessing: neon; override with --preprocess)');
    expect(readFileSync(join(d, 'b.txt'), 'utf8')).toBe(readFileSync(join(d, 'a.txt'), 'utf8'));
    expect(cli(['inspect', 'old.h5'], d).stdout).toMatch(/expects input: neon preprocessing \(the checkpoint predates/);

    const p = cli(['prepare', '--image_folder', resolve(__dirname, '../fixtures/data/folder'), '--channels', 'bgr', '--size', '32', '--out', 'bgr'], d);
    expect(p.code).toBe(0);
    const h = await openH5(join(d, 'bgr', 'train.h5'));
    try {
      expect((h.get('input') as H5Dataset).attrs['channel_order']!.value).toBe('bgr');
    } finally {
      h.close();
    }
    rmSync(join(d, 'bgr'), { recursive: true });
  });

  it('an unknown --preprocess is a usage error in one line (train, eval, predict)', () => {
    const d = dir('bad');
    for (const args of [['train', '--data_root', data], ['eval', '--model_file', 'x.h5', '--data_root', data], ['predict', 'x.jpg', '--model_file', 'x.h5']]) {
      const r = cli([...args, '--preprocess', 'imagenet'], d);
      expect(r.code).toBe(2);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(/--preprocess 'imagenet' is not known; choose one of neon, caffe, torchvision/);
    }
  });
});
