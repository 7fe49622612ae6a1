// train --model_file CK resumes from the checkpoint alone (src/cli/resume.ts); --source_model
// sets the model's width and dense size; mismatched layers name their fix or are skipped.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { h5wasm } from '../../src/formats/h5.js';
import { writeNeonH5 } from '../../src/data/h5write.js';
import { Generator } from '../../src/index.js';
import { arrays, cli, TINY, tinyWorkspace } from './run.js';

const { data, dir } = tinyWorkspace('tl-resume-');


/** Random 2-class data in neon's format with C channels of S×S pixels. */
async function writeData(folder: string, C: number, S: number): Promise<void> {
  mkdirSync(folder, { recursive: true });
  const g = new Generator(3);
  const make = (n: number) => {
    const x = new Uint8Array(n * C * S * S);
    for (let i = 0; i < x.length; i++) x[i] = Math.floor(g.uniform(0, 256));
    return { x, labels: Int32Array.from({ length: n }, (_, i) => i % 2) };
  };
  const mean = new Float32Array(C).fill(128);
  for (const [file, n] of [['train.h5', 8], ['test.h5', 4]] as const) {
    await writeNeonH5(join(folder, file), { ...make(n), lshape: [C, S, S], nclass: 2, classNames: ['a', 'b'], mean });
  }
}

const base = ['train', '-z', '4', '--no_progress_bar'];

describe('train --model_file resumes from the checkpoint alone', () => {
  it('a finetune checkpoint: experiment, imported layers and --lr come from it; the result equals an uninterrupted run bit for bit', async () => {
    const d = dir('alone');
    expect(cli([...base, '--model', 'vgg16', '--data_root', data, '-e', '1', ...TINY, '--save_path', 'source.h5'], d).code).toBe(0);
    const ft = [...base, '--data_root', data, '--source_model', 'source.h5', '--lr', '0.01', '--serialize', '2'];
    expect(cli([...ft, '-e', '4', '--save_path', 'full.h5'], d).code).toBe(0);
    expect(cli([...ft, '-e', '2', '--save_path', 'half.h5'], d).code).toBe(0);
    // no --source_model, --experiment, --lr, --width_mult or --fc_size
    const r = cli([...base, '--data_root', data, '-e', '4', '--model_file', 'half.h5', '--save_path', 'resumed.h5', '--serialize', '2'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('resume: --experiment finetune, 26 layers imported from source.h5 at --imported_lr_scale 0.001, --lr 0.01, as recorded in half.h5; typed flags override\n');
    expect(r.stdout).toContain('resuming from half.h5 at epoch 3 of 4');
    const full = await arrays(join(d, 'full.h5'));
    const resumed = await arrays(join(d, 'resumed.h5'));
    expect(Object.keys(resumed).sort()).toEqual(Object.keys(full).sort());
    for (const k of Object.keys(full)) expect(resumed[k], k).toEqual(full[k]);

    // typed flags win (a note says so) or, where the checkpoint cannot take them, one line
    const lr = cli([...base, '--data_root', data, '-e', '3', '--model_file', 'half.h5', '--lr', '0.02'], d);
    expect(lr.code).toBe(0);
    expect(lr.stdout).toContain('note: --lr 0.02 as typed; half.h5 was trained with --lr 0.01\n');
    expect(lr.stdout).toContain('--lr 0.02, as recorded');
    const other = cli([...base, '--data_root', data, '-e', '3', '--model_file', 'half.h5', '--experiment', 'scratch'], d);
    expect(other.code).toBe(2);
    expect(other.stderr).toBe('tl-scratch: --experiment scratch differs from the --experiment finetune recorded in half.h5; leave --experiment out to resume with the recorded one\n');

    // a checkpoint from before the record: the message says what to add, and that works
    cpSync(join(d, 'half.h5'), join(d, 'old.h5'));
    await h5wasm.ready;
    const f = new h5wasm.File(join(d, 'old.h5'), 'a');
    const info = JSON.parse(String(f.attrs.input_info!.value)) as Record<string, unknown>;
    delete info.training;
    f.delete_attribute('input_info');
    f.create_attribute('input_info', JSON.stringify(info));
    f.close();
    const old = cli([...base, '--data_root', data, '-e', '3', '--model_file', 'old.h5'], d);
    expect(old.code).toBe(2);
    expect(old.stdout).toBe('');
    expect(old.stderr).toBe('tl-scratch: old.h5 does not record which layers its run imported (written by an older tl-scratch); add --source_model FILE and --experiment finetune or extract, as it was trained\n');
    expect(cli([...base, '--data_root', data, '-e', '3', '--model_file', 'old.h5', '--source_model', 'source.h5', '--lr', '0.01'], d).code).toBe(0);
  }, 300_000);

  it('data whose mean differs from the recorded one is centred with the recorded mean, and one line says so', async () => {
    const d = dir('mean');
    expect(cli([...base, '--data_root', data, '-e', '1', ...TINY, '--save_path', 'ck.h5'], d).code).toBe(0);
    // other data of the same shape, whose mean (128) is not the recorded one (100)
    const moved = join(d, 'moved');
    await writeData(moved, 3, 32);
    const r = cli([...base, '--data_root', moved, '-e', '2', '--model_file', 'ck.h5'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("mean: the data's (128, 128, 128) differs from the training mean recorded in ck.h5 (100, 100, 100); subtracting the recorded one, as the model was trained\n");
  }, 300_000);
});

describe('train --source_model: width, dense size and mismatched layers', () => {
  it('takes --width_mult and --fc_size from the source (one line), typed flags win, and a mismatch names the flag that fixes it', () => {
    const d = dir('source-flags');
    expect(cli([...base, '--model', 'vgg16', '--data_root', data, '-e', '1', ...TINY, '--save_path', 'source.h5'], d).code).toBe(0);
    const r = cli([...base, '--data_root', data, '-e', '1', '--source_model', 'source.h5'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("model: --width_mult 0.0625 (conv1_1 has 4 filters, VGG-16's 64) and --fc_size 16 (fc7 has 16 outputs), from the source model source.h5; type the flag to override\n");
    expect(r.stdout).toMatch(/finetune: 26 layers imported/);
    const wide = cli([...base, '--data_root', data, '-e', '1', '--source_model', 'source.h5', '--width_mult', '0.125'], d);
    expect(wide.code).toBe(1);
    expect(wide.stderr).toBe("tl-scratch: source.h5: layer 'conv1_1' W has shape [8, 3, 3, 3] in the model but [4, 3, 3, 3] in the file ('conv1_1 W'); the source's conv1_1 has 4 filters (VGG-16's has 64): build the model at the source's width with --width_mult 0.0625; or pass --mismatch skip to leave mismatched layers at their initialization and train them as new layers\n");
    const fc = cli([...base, '--model', 'vgg16', '--data_root', data, '-e', '1', '--source_model', 'source.h5', '--fc_size', '8'], d);
    expect(fc.code).toBe(1);
    expect(fc.stderr).toMatch(/^tl-scratch: source\.h5: layer 'fc6' W has shape \[8, 32\] in the model but \[16, 32\] in the file \('fc6 W'\); the source's fc6 has 16 outputs: build the model with --fc_size 16; or pass --mismatch skip .*\n$/);
  }, 300_000);

  it('a 1-channel source into RGB data names prepare --channels gray; a source of another image size names --size; --mismatch skip lists what it skipped', async () => {
    const d = dir('channels');
    await writeData(join(d, 'gray'), 1, 32);
    await writeData(join(d, 'big'), 3, 64);
    expect(cli([...base, '--model', 'vgg16', '--data_root', 'gray', '-e', '1', ...TINY, '--save_path', 'gray.h5'], d).code).toBe(0);
    const rgb = cli([...base, '--data_root', data, '-e', '1', '--source_model', 'gray.h5'], d);
    expect(rgb.code).toBe(1);
    expect(rgb.stdout).not.toContain('Accuracy');
    expect(rgb.stderr).toBe("tl-scratch: gray.h5: layer 'conv1_1' W has shape [4, 3, 3, 3] in the model but [4, 1, 3, 3] in the file ('conv1_1 W'); the source takes 1-channel images and the data has 3 channels: prepare the data with 'tl-scratch prepare --channels gray'; or pass --mismatch skip to leave mismatched layers at their initialization and train them as new layers\n");
    const skip = cli([...base, '--data_root', data, '-e', '1', '--source_model', 'gray.h5', '--mismatch', 'skip'], d);
    expect(skip.stderr).toBe('');
    expect(skip.code).toBe(0);
    expect(skip.stdout).toContain("Skipped layer # 0 'conv1_1' (W has shape [4, 3, 3, 3] in the model but [4, 1, 3, 3] in the file): initialized\n");
    expect(skip.stdout).toContain('--mismatch skip: 1 parameter(s) not imported, their layers initialized and trained as new: conv1_1.W\n');
    expect(skip.stdout).toMatch(/finetune: 25 layers imported/);

    expect(cli([...base, '--model', 'vgg16', '--data_root', data, '-e', '1', ...TINY, '--save_path', 'rgb32.h5'], d).code).toBe(0);
    const big = cli([...base, '--model', 'vgg16', '--data_root', 'big', '-e', '1', '--source_model', 'rgb32.h5'], d);
    expect(big.code).toBe(1);
    expect(big.stderr).toBe("tl-scratch: rgb32.h5: layer 'fc6' W has shape [16, 128] in the model but [16, 32] in the file ('fc6 W'); the source's fc6 takes 32 = 32·1·1 values: it was trained on 32×32 images and the data is 64×64; prepare the data with --size 32 (export: --image_size 32); or pass --mismatch skip to leave mismatched layers at their initialization and train them as new layers\n");
  }, 300_000);
});
