// Issue 11, "What a user hits first": eval on a test set alone, neon's save rules,
// learning-rate schedules from the command line, progress of the test pass.
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { openH5, type H5Dataset, type H5Group } from '../../src/formats/h5.js';
import { cli, TINY, tinyWorkspace, writeTinyData } from './run.js';

const { work, data, dir } = tinyWorkspace('tl-first-');

/** Parameters (no optimizer states) and the attributes of a checkpoint. */
async function checkpoint(path: string): Promise<{ params: Record<string, number[]>; epochIndex: number; optimizer: Record<string, unknown> }> {
  const f = await openH5(path);
  try {
    const params: Record<string, number[]> = {};
    const layers = f.get('layers') as H5Group;
    for (const name of layers.keys()) {
      const g = layers.get(name) as H5Group;
      for (const k of g.keys()) if (k !== 'states') params[`${name}/${k}`] = Array.from((g.get(k) as H5Dataset).value as Float32Array);
    }
    return { params, epochIndex: Number(f.attrs.epoch_index!.value), optimizer: JSON.parse(String(f.attrs.optimizer!.value)) as Record<string, unknown> };
  } finally {
    f.close();
  }
}

const train = (args: string[], cwd: string) => cli(['train', '--data_root', data, '-z', '4', ...TINY, '--lr', '0.01', '--no_progress_bar', ...args], cwd);

describe('eval needs only the test set', () => {
  it('reads DIR/test.h5 alone and gives the accuracy and inference file it gives with the training set beside it; the test pass shows its progress', () => {
    const d = dir('eval-test-only');
    expect(train(['-e', '2', '--save_path', 'm.h5', '--serialize', '2'], d).code).toBe(0);
    const only = dir('eval-test-only/new-test-set');
    copyFileSync(join(data, 'test.h5'), join(only, 'test.h5'));
    const r = cli(['eval', '--model_file', 'm.h5', '--data_root', only, ...TINY, '--inference_file', 'only.txt'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // the path as a shared log shows it: relative to the working directory
    expect(r.stdout).toContain(`data: ${relative(d, join(only, 'test.h5'))}: 10 test examples of shape (3, 32, 32), 2 classes`);
    // The test pass shows its progress: a plain line off a terminal (the pipe here), no carriage return.
    expect(r.stdout).toMatch(/^test: 10\/10 images \(\d+\.\ds\)$/m);
    expect(r.stdout).not.toContain('\r');
    const both = cli(['eval', '--model_file', 'm.h5', '--data_root', data, ...TINY, '--inference_file', 'both.txt', '--no_progress_bar'], d);
    expect(both.code).toBe(0);
    expect(both.stdout).not.toMatch(/^test: /m);
    expect(/Accuracy = .*/.exec(r.stdout)![0]).toBe(/Accuracy = .*/.exec(both.stdout)![0]);
    expect(readFileSync(join(d, 'only.txt'), 'utf8')).toBe(readFileSync(join(d, 'both.txt'), 'utf8'));
    expect(readFileSync(join(d, 'only.txt'), 'utf8').trim().split('\n')).toHaveLength(11);
  });
  it('a checkpoint brings its model flags and its data mean: eval needs neither the width flags nor a mean in test.h5', async () => {
    const d = dir('eval-recorded');
    // trained with the tiny model flags; eval below is given none of them
    expect(train(['-e', '2', '--save_path', 'm.h5', '--serialize', '2'], d).code).toBe(0);
    const ref = cli(['eval', '--model_file', 'm.h5', '--data_root', data, '--inference_file', 'ref.txt', '--no_progress_bar'], d);
    expect(ref.stderr).toBe('');
    expect(ref.code).toBe(0);
    expect(ref.stdout).not.toMatch(/^mean: /m);
    // the same test images in a test.h5 without its `mean` (a file written by another tool):
    // the training data's mean that the checkpoint records is subtracted, with one line saying so
    const noMean = dir('eval-recorded/no-mean');
    await writeTinyData(noMean, 24, 10, 1, { testMean: false });
    rmSync(join(noMean, 'train.h5'));
    const f = await openH5(join(noMean, 'test.h5'));
    expect(f.keys()).not.toContain('mean');
    f.close();
    const r = cli(['eval', '--model_file', 'm.h5', '--data_root', noMean, '--inference_file', 'no-mean.txt', '--no_progress_bar'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`mean: ${relative(d, join(noMean, 'test.h5'))} has none; subtracting the training data's mean recorded in m.h5 (100, 100, 100)\n`);
    expect(/Accuracy = .*/.exec(r.stdout)![0]).toBe(/Accuracy = .*/.exec(ref.stdout)![0]);
    expect(readFileSync(join(d, 'no-mean.txt'), 'utf8')).toBe(readFileSync(join(d, 'ref.txt'), 'utf8'));
    // a model flag typed on the command line still wins over the record
    const other = cli(['eval', '--model_file', 'm.h5', '--data_root', data, '--fc_size', '32', '--no_progress_bar'], d);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^tl-scratch: checkpoint m\.h5: layer '\w+' W has shape \[16, \d+\] in the file but \[32, \d+\] in the model/);
  });
  it("train's test pass centres a test.h5 without a mean with train.h5's mean, as eval does with the checkpoint's", async () => {
    const d = dir('train-no-test-mean');
    const noMean = dir('train-no-test-mean/data');
    await writeTinyData(noMean, 24, 10, 1, { testMean: false });
    const withMean = train(['-e', '2', '--inference_file', 'with.txt'], d);
    const without = cli(['train', '--data_root', noMean, '-z', '4', ...TINY, '--lr', '0.01', '--no_progress_bar', '-e', '2', '--inference_file', 'without.txt'], d);
    expect(without.stderr).toBe('');
    expect(without.code).toBe(0);
    expect(/Accuracy = .*/.exec(without.stdout)![0]).toBe(/Accuracy = .*/.exec(withMean.stdout)![0]);
    expect(readFileSync(join(d, 'without.txt'), 'utf8')).toBe(readFileSync(join(d, 'with.txt'), 'utf8'));
  });
  it('a folder without test.h5 is a usage error naming it', () => {
    const d = dir('eval-no-test');
    copyFileSync(join(data, 'train.h5'), join(d, 'train.h5'));
    const e = cli(['eval', '--model_file', join(data, 'train.h5'), '--data_root', d, ...TINY], work);
    expect(e.code).toBe(2);
    expect(e.stderr.trim().split('\n')).toHaveLength(1);
    expect(e.stderr).toMatch(/has no test\.h5 \(it holds train\.h5\)/);
  });
  it('train shows the progress of its final test pass after the epochs', () => {
    const d = dir('train-test-progress');
    const r = cli(['train', '--data_root', data, '-z', '4', ...TINY, '-e', '1'], d);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Epoch 1 .*\n(.*\n)*test: 10\/10 images \(\d+\.\ds\)\nAccuracy = /m);
  });
});

describe("neon's save rules", () => {
  it('--save_path alone saves every epoch (serialize 1), with a one-line warning', async () => {
    const d = dir('save-path-alone');
    const r = train(['-e', '2', '-s', 'm.h5'], d);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('tl-scratch: warning: --save_path m.h5 without --serialize: a checkpoint every epoch (--serialize 1, as neon)\n');
    expect((await checkpoint(join(d, 'm.h5'))).epochIndex).toBe(2);
  });
  it('--serialize N alone saves to model.h5 in the working directory, with a one-line warning; --help says so', async () => {
    const d = dir('serialize-alone');
    const r = train(['-e', '2', '--serialize', '2'], d);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('tl-scratch: warning: --serialize 2 without --save_path: checkpoints go to model.h5 (as neon, which uses a default file name)\n');
    expect((await checkpoint(join(d, 'model.h5'))).epochIndex).toBe(2);
    const h = cli(['train', '--help'], work).stdout.replace(/\s+/g, ' ');
    expect(h).toContain('else to model.h5 in the working directory');
    expect(h).toContain('without --serialize, one every epoch');
  });
  it('neither: no checkpoint and no warning', () => {
    const d = dir('no-save');
    const r = train(['-e', '1'], d);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(existsSync(join(d, 'model.h5'))).toBe(false);
  });
});

describe('--schedule', () => {
  it('the learning rate of each epoch follows the schedule (-v prints it), and the checkpoint stores the schedule', async () => {
    const d = dir('schedule-lr');
    const cases: [string, string[]][] = [
      ['power:2:0.5', ['0.01', '0.01', '0.005', '0.005']],
      ['schedule:1,3:0.5', ['0.01', '0.005', '0.005', '0.0025']],
      ['step:1,2:0.004,0.002', ['0.01', '0.004', '0.002', '0.002']],
      ['poly:3:2', ['0.01', '0.01', '0.01', '0']],
      ['exp:1', ['0.01', '0.005', String(0.01 / 3), '0.0025']],
    ];
    for (const [spec, rates] of cases) {
      const r = train(['-e', '4', '--schedule', spec, '-v', '-s', 's.h5', '--serialize', '4'], d);
      expect(r.code, r.stderr).toBe(0);
      expect([...r.stdout.matchAll(/^epoch (\d): learning rate (\S+)$/gm)].map((m) => m[2]), spec).toEqual(rates);
    }
    const opt = (await checkpoint(join(d, 's.h5'))).optimizer as { mapping: { default: { schedule: unknown } } };
    expect(opt.mapping.default.schedule).toEqual({ type: 'ExpSchedule', decay: 1 });
  });
  it('the schedule is applied: at learning rate 0 from the second epoch (schedule:1:0, no momentum) the weights stay as after the first', async () => {
    const d = dir('schedule-applied');
    const common = ['--momentum', '0', '--serialize', '1'];
    expect(train([...common, '-e', '1', '-s', 'one.h5'], d).code).toBe(0);
    expect(train([...common, '-e', '3', '-s', 'frozen.h5', '--schedule', 'schedule:1:0'], d).code).toBe(0);
    expect(train([...common, '-e', '3', '-s', 'constant.h5'], d).code).toBe(0);
    const one = (await checkpoint(join(d, 'one.h5'))).params;
    const frozen = (await checkpoint(join(d, 'frozen.h5'))).params;
    const constant = (await checkpoint(join(d, 'constant.h5'))).params;
    expect(frozen).toEqual(one);
    expect(constant).not.toEqual(one);
  });
  it('resuming with --model_file continues the stored schedule (a stateful StepSchedule) bit for bit; a different --schedule is refused', async () => {
    const d = dir('schedule-resume');
    const common = ['--serialize', '2', '--schedule', 'step:1,2:0.005,0.002'];
    expect(train([...common, '-e', '4', '--save_path', 'full.h5'], d).code).toBe(0);
    expect(train([...common, '-e', '2', '--save_path', 'half.h5'], d).code).toBe(0);
    const r = train(['-e', '4', '--model_file', 'half.h5', '--save_path', 'resumed.h5', '--serialize', '2', '-v'], d);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('epoch 3: learning rate 0.002\n');
    expect(r.stdout).toContain('epoch 4: learning rate 0.002\n');
    const full = await checkpoint(join(d, 'full.h5'));
    const resumed = await checkpoint(join(d, 'resumed.h5'));
    expect(resumed.params).toEqual(full.params);
    expect(resumed.optimizer).toEqual(full.optimizer);
    const other = train(['-e', '4', '--model_file', 'half.h5', '--schedule', 'exp:0.1'], d);
    expect(other.code).toBe(2);
    expect(other.stderr).toBe('tl-scratch: --schedule exp:0.1 differs from the schedule step:1,2:0.005,0.002 stored in half.h5; leave --schedule out to continue the stored one\n');
  });
  it('imported layers follow the schedule at --imported_lr_scale times the rate (step rates scaled too; 0 when extracting)', () => {
    const d = dir('schedule-imported');
    expect(cli(['train', '--model', 'vgg16', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '-s', 'source.h5', '--no_progress_bar'], d).code).toBe(0);
    const rates = (experiment: string) => {
      const r = train(['-e', '3', '--source_model', 'source.h5', '--experiment', experiment, '--schedule', 'step:1,2:0.004,0.002', '-v'], d);
      expect(r.code, r.stderr).toBe(0);
      return [...r.stdout.matchAll(/^epoch \d: learning rate (.*)$/gm)].map((m) => m[1]);
    };
    expect(rates('finetune')).toEqual(['0.01 (imported layers 0.00001)', '0.004 (imported layers 0.000004)', '0.002 (imported layers 0.000002)']);
    expect(rates('extract')).toEqual(['0.01 (imported layers 0)', '0.004 (imported layers 0)', '0.002 (imported layers 0)']);
  });
  it('a bad spec is a usage error: exit 2, one line naming the spec and the forms', () => {
    for (const [spec, why] of [
      ['bogus', "unknown kind 'bogus'"],
      ['power:0:0.5', 'the step N must be an integer ≥ 1'],
      ['step:2,4:0.1', 'step needs one rate per epoch (2 epochs, 1 rate); to multiply the rate by 0.1 at each epoch use schedule:2,4:0.1'],
      ['schedule:-1:0.1', 'epochs must be integers ≥ 0'],
      ['exp', 'exp takes 1 argument'],
      ['exp:fast', "the decay D must be a number, got 'fast'"],
      ['poly:10', 'poly takes 2 arguments'],
    ]) {
      const r = train(['-e', '1', '--schedule', spec!], work);
      expect(r.code, spec).toBe(2);
      expect(r.stderr.trim().split('\n'), spec).toHaveLength(1);
      expect(r.stderr).toContain(`tl-scratch: --schedule '${spec}': ${why}`);
      expect(r.stderr).toContain('the forms are constant | schedule:E1,E2,...:F | step:E1,E2,...:R1,R2,... | power:N:F | exp:D | poly:T:P');
    }
  });
  it('--help documents the grammar', () => {
    const h = cli(['train', '--help'], work).stdout.replace(/\s+/g, ' ');
    for (const form of ['--schedule <spec>', 'constant', 'schedule:E1,E2,..:F', 'step:E1,E2,..:R1,R2,..', 'power:N:F', 'exp:D', 'poly:T:P', 'resuming with --model_file continues it']) expect(h).toContain(form);
  });
});
