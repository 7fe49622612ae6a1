import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openH5, type H5Dataset, type H5Group } from '../../src/formats/h5.js';
import { arrays, cli, cliAsync, TINY, tinyWorkspace } from './run.js';

const { work, data, dir } = tinyWorkspace('tl-cli-');


describe('tl-scratch CLI', () => {
  it('--help of train lists every flag with its default', () => {
    const r = cli(['train', '--help'], work);
    expect(r.code).toBe(0);
    for (const flag of ['--backend', '--epochs', '--batch_size', '--rng_seed', '--data_root', '--source_model', '--serialize', '--save_path', '--model_file', '--output_file', '--eval_freq', '--no_progress_bar', '--verbose', '--experiment', '--lr', '--momentum', '--wdecay', '--imported_lr_scale', '--inference_file', '--model', '--width_mult', '--fc_size', '--dropout_keep', '--match', '--train_per_class', '--no_feature_cache']) {
      expect(r.stdout).toContain(flag);
    }
    for (const d of ['default: 10', 'default: 32', '"./data_wiki"', 'default: 0.001', 'default: 0.9', 'default: 0.0005', '"inference.txt"', 'default: 0.5', '"vgg16_transfer"']) expect(r.stdout).toContain(d);
  });

  it('train prints the accuracy and writes the inference file (one row per test image); eval reproduces the accuracy', () => {
    const d = dir('basic');
    const r = cli(['train', '--data_root', data, '-e', '3', '-z', '4', ...TINY, '--lr', '0.01', '--save_path', 'ckpt.h5', '--serialize', '3', '--no_progress_bar'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/Epoch \d/); // --no_progress_bar
    const acc = /Accuracy = (\d+\.\d)%/.exec(r.stdout)![1];
    const lines = readFileSync(join(d, 'inference.txt'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('inference, target');
    expect(lines.length).toBe(1 + 10);
    for (const l of lines.slice(1)) {
      const m = /^\[([-\d.e]+), ([-\d.e]+)\], ([01])$/.exec(l);
      expect(m, l).not.toBeNull();
      expect(Number(m![1]) + Number(m![2])).toBeCloseTo(1, 5);
    }
    const e = cli(['eval', '--model_file', 'ckpt.h5', '--data_root', data, ...TINY, '--inference_file', 'eval.txt'], d);
    expect(e.code).toBe(0);
    expect(e.stdout).toContain(`Accuracy = ${acc}%`);
    expect(readFileSync(join(d, 'eval.txt'), 'utf8')).toBe(readFileSync(join(d, 'inference.txt'), 'utf8'));
  });

  it('imports matching layers from a source model and reports which', () => {
    const d = dir('import');
    expect(cli(['train', '--model', 'vgg16', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--save_path', 'source.h5', '--serialize', '1', '--no_progress_bar'], d).code).toBe(0);
    const r = cli(['train', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--source_model', 'source.h5', '--no_progress_bar'], d);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Successfully copied layer # 0 'conv1_1'");
    expect(r.stdout).toContain("Successfully copied layer # 1 'conv1_1_bias'");
    expect(r.stdout).toContain("New layer # 44 'fc6_new' (not in the source model): initialized");
    expect(r.stdout.match(/Successfully copied/g)!.length).toBe(26);
    expect(r.stdout).toMatch(/finetune: 26 layers imported/);
  });

  it('checkpoints every N epochs, and resuming equals an uninterrupted run bit for bit; -o writes neon\'s HDF5 log', async () => {
    const d = dir('resume');
    const common = ['--data_root', data, '-z', '5', ...TINY, '--lr', '0.01', '--no_progress_bar', '--serialize', '2'];
    expect(cli(['train', ...common, '-e', '4', '--save_path', 'full.h5', '-o', 'log.h5', '--eval_freq', '2'], d).code).toBe(0);
    expect(cli(['train', ...common, '-e', '2', '--save_path', 'half.h5'], d).code).toBe(0);
    expect(cli(['train', ...common, '-e', '2', '--save_path', 'light.h5', '--no_save_states'], d).code).toBe(0);
    expect(Object.keys(await arrays(join(d, 'light.h5'))).some((k) => k.includes('/states/'))).toBe(false);
    expect((await arrays(join(d, 'half.h5'))).epoch_index).toEqual([2]);
    const r = cli(['train', ...common, '-e', '4', '--model_file', 'half.h5', '--save_path', 'resumed.h5'], d);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('resuming from half.h5 at epoch 3 of 4');
    const full = await arrays(join(d, 'full.h5'));
    const resumed = await arrays(join(d, 'resumed.h5'));
    expect(Object.keys(resumed).sort()).toEqual(Object.keys(full).sort());
    expect(Object.keys(full).some((k) => k.includes('/states/'))).toBe(true);
    for (const k of Object.keys(full)) expect(resumed[k], k).toEqual(full[k]);

    const f = await openH5(join(d, 'log.h5'));
    try {
      // 24 examples, batch 5: 5 batches per epoch (neon's count), 4 epochs.
      expect(Number((f.get('config') as H5Group).attrs.total_minibatches!.value)).toBe(20);
      expect(Array.from((f.get('time_markers/minibatch') as H5Dataset).value as Float64Array)).toEqual([5, 10, 15, 20]);
      expect(((f.get('cost/train') as H5Dataset).value as Float64Array).length).toBe(20);
      expect(((f.get('cost/loss') as H5Dataset).value as Float64Array).length).toBe(2);
      const acc = (f.get('metrics/Accuracy') as H5Dataset).value as Float64Array;
      expect(acc.length).toBe(2);
      expect(acc.every((v) => v >= 0 && v <= 1)).toBe(true);
    } finally {
      f.close();
    }
  });

  it('shows where chance is: the cost of a uniform output on the progress and the summary, and one warning when the cost stays there', () => {
    const d = dir('chance');
    const stuck = cli(['train', '--data_root', data, '-e', '3', '-z', '4', ...TINY, '--lr', '0'], d);
    expect(stuck.code).toBe(0);
    // two classes under CrossEntropyBinary: −ln ½ − ln ½ = 1.39
    expect(stuck.stdout).toMatch(/^Epoch 3 +\[Train \|█+\| +6\/6 batches, 1\.\d\d cost \(uniform 1\.39\), /m);
    // images/s, the epoch's training accuracy, and the time left after every epoch but the last
    expect(stuck.stdout).toMatch(/^Epoch 1 +\[Train .*, [\d.]+s, [\d.]+ img\/s\] \[train accuracy \d+\.\d%\] \[2 epochs left, ETA \d+s\]$/m);
    expect(stuck.stdout).toMatch(/^Epoch 3 +\[Train .*, [\d.]+s, [\d.]+ img\/s\] \[train accuracy \d+\.\d%\]$/m);
    expect(stuck.stdout).toMatch(/^Accuracy = .*\ntraining cost: 1\.\d\d after the first epoch, 1\.\d\d after the last \(a uniform output costs 1\.39\)$/m);
    expect(stuck.stderr).toMatch(/^tl-scratch: warning: the training cost 1\.\d\d has not moved from a uniform output's 1\.39 in 3 epochs: the model is not learning; try --lr 0\.001 \(this run: 0; neon's default 0\.001\) or more epochs\n$/);
    const learning = cli(['train', '--data_root', data, '-e', '3', '-z', '4', ...TINY, '--lr', '0.01', '--no_progress_bar'], d);
    expect(learning.code).toBe(0);
    expect(learning.stderr).toBe('');
    expect(learning.stdout).toMatch(/\(a uniform output costs 1\.39\)/);
  });

  it('train --model_file CK takes the model flags CK records; typed ones that differ, or another experiment, are one-line usage errors', () => {
    const d = dir('resume-flags');
    const base = ['train', '--data_root', data, '-z', '4', '--no_progress_bar'];
    expect(cli([...base, '-e', '1', ...TINY, '--save_path', 'ck.h5', '--serialize', '1'], d).code).toBe(0);
    const r = cli([...base, '-e', '2', '--model_file', 'ck.h5'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('resuming from ck.h5 at epoch 2 of 2');
    const wide = cli([...base, '-e', '2', '--model_file', 'ck.h5', '--width_mult', '0.125'], d);
    expect(wide.code).toBe(2);
    expect(wide.stderr).toBe('tl-scratch: --width_mult 0.125 differs from the --width_mult 0.0625 recorded in ck.h5; leave --width_mult out to resume with the recorded one\n');
    // a finetune checkpoint has per-layer optimizer states: it records its experiment and imported layers (test/cli/resume.test.ts)
    expect(cli([...base, '-e', '1', ...TINY, '--source_model', 'ck.h5', '--save_path', 'ft.h5', '--serialize', '1'], d).code).toBe(0);
    const ft = cli([...base, '-e', '2', '--model_file', 'ft.h5'], d);
    expect(ft.stderr).toBe('');
    expect(ft.code).toBe(0);
    expect(ft.stdout).toContain('resume: --experiment finetune, 32 layers imported from ck.h5');
    expect(cli([...base, '-e', '2', '--model_file', 'ft.h5', '--source_model', 'ck.h5'], d).code).toBe(0);
  }, 180_000);

  it('a run killed with kill -9 mid-write left temporaries: the next run writing those files removes them', () => {
    const d = dir('debris');
    // the pid of a process that has exited, as a killed run's is
    const dead = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' }).pid!;
    const debris = [`.ckpt.h5.tmp-${dead}-0`, `.inference.txt.tmp-${dead}-1`];
    const live = `.ckpt.h5.tmp-${process.pid}-0`; // a writer that is still running (this test)
    for (const n of [...debris, live]) writeFileSync(join(d, n), 'half a file');
    const r = cli(['train', '--data_root', data, '-e', '1', '-z', '8', ...TINY, '--save_path', 'ckpt.h5', '--serialize', '1', '--no_progress_bar'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(d).sort()).toEqual([live, 'ckpt.h5', 'inference.txt'].sort());
  });

  it('Ctrl-C writes a usable checkpoint and exits cleanly', async () => {
    const d = dir('sigint');
    const p = cliAsync(['train', '--data_root', data, '-e', '1000', '-z', '4', ...TINY, '--save_path', 'int.h5'], d);
    let out = '';
    await new Promise<void>((res) => {
      p.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (/Epoch 1 /.test(out)) res();
      });
    });
    p.kill('SIGINT');
    const code = await new Promise<number | null>((res) => p.on('close', res));
    expect(code).toBe(130);
    expect(out).toMatch(/checkpoint written to int\.h5; continue with --model_file int\.h5/);
    const e = cli(['eval', '--model_file', 'int.h5', '--data_root', data, ...TINY], d);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/Accuracy = \d+\.\d%/);
  });

  it('extract caches the frozen layers\' outputs (one line says so); --no_feature_cache gives the same checkpoint and inference file', async () => {
    const d = dir('feature-cache');
    expect(cli(['train', '--model', 'vgg16', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--save_path', 'source.h5', '--no_progress_bar'], d).code).toBe(0);
    // 24 examples, batch 5: wrap-around batches; 3 epochs, dropout on, momentum.
    const common = ['train', '--experiment', 'extract', '--source_model', 'source.h5', '--data_root', data, '-e', '3', '-z', '5', ...TINY, '--lr', '0.01', '--no_progress_bar', '--serialize', '1'];
    const on = cli([...common, '--save_path', 'on.h5', '--inference_file', 'on.txt'], d);
    expect(on.stderr).toBe('');
    expect(on.code).toBe(0);
    expect(on.stdout).toContain('feature cache: layers conv1_1..pool5 frozen, caching 32 floats per image in memory\n');
    const off = cli([...common, '--save_path', 'off.h5', '--inference_file', 'off.txt', '--no_feature_cache', '-v'], d);
    expect(off.code).toBe(0);
    expect(off.stdout).not.toContain('caching');
    expect(off.stdout).toContain('feature cache: not used (turned off)');
    expect(readFileSync(join(d, 'on.txt'), 'utf8')).toBe(readFileSync(join(d, 'off.txt'), 'utf8'));
    const [a, b] = [await arrays(join(d, 'on.h5')), await arrays(join(d, 'off.h5'))];
    expect(Object.keys(a).some((k) => k.startsWith('fc6_new/states/'))).toBe(true);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) expect(b[k], k).toEqual(a[k]);
  });

  it('--experiment all prints the comparison table and writes the report with its images', () => {
    const d = dir('all');
    expect(cli(['train', '--model', 'vgg16', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--save_path', 'source.h5', '--serialize', '1', '--no_progress_bar'], d).code).toBe(0);
    // no --eval_freq: --experiment all evaluates every epoch for the report's test-accuracy curves
    const r = cli(['train', '--experiment', 'all', '--source_model', join(d, 'source.h5'), '--data_root', data, '-e', '2', '-z', '4', ...TINY, '--no_progress_bar'], d);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/experiment\s+layers imported\s+trainable params\s+test accuracy\s+final cost\s+time/);
    expect(r.stdout).toMatch(/scratch\s+0\s/);
    expect(r.stdout).toMatch(/finetune\s+26\s/);
    expect(r.stdout).toMatch(/extract\s+26\s/);
    const files = readdirSync(join(d, 'report')).sort();
    expect(files).toEqual(['accuracy.svg', 'index.md', 'inference_extract.txt', 'inference_finetune.txt', 'inference_scratch.txt', 'loss.svg']);
    expect(readFileSync(join(d, 'report', 'loss.svg'), 'utf8')).toMatch(/<svg[\s\S]*<polyline[\s\S]*<\/svg>/);
    const md = readFileSync(join(d, 'report', 'index.md'), 'utf8');
    expect(md).toContain('![training cost](loss.svg)');
    expect(md).toContain('![test accuracy](accuracy.svg)');
    expect(readFileSync(join(d, 'report', 'accuracy.svg'), 'utf8')).toMatch(/Test accuracy per epoch/);
    expect(md).toContain('| finetune | 26 |');
    expect(md).toMatch(/(finetune|extract) (beats|trails) scratch on \d of 1 seed by \d+\.\d points/);
    // the source model was given as an absolute path; the report shows it relative to the working directory
    expect(md).toContain('source model: source.h5');
    for (const f of ['index.md', 'loss.svg', 'accuracy.svg']) expect(readFileSync(join(d, 'report', f), 'utf8')).not.toContain(d);
  });
});

describe('tl-scratch CLI: bad input', () => {
  it('an unknown flag or subcommand is a usage error (exit 2)', () => {
    for (const args of [['train', '--bogus'], ['frobnicate']]) {
      const r = cli(args, work);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/unknown (option|command)/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(cli(['train', '--epochs', 'ten'], work).code).toBe(2);
  });
  it('--threads takes a positive integer on train, eval and demo; 0, negative or fractional is a usage error', () => {
    for (const cmd of ['train', 'eval', 'demo']) {
      for (const bad of ['0', '-1', '1.5', 'two']) {
        const r = cli([cmd, '--threads', bad], work);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/--threads must be an integer ≥ 1/);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
      expect(cli([cmd, '--help'], work).stdout).toMatch(/--threads <n>\s+threads of the cpu backend/);
    }
  });
  it('--threads above the logical cores is a usage error on every command that takes it, saying the range', () => {
    const cores = availableParallelism();
    for (const args of [['train'], ['eval'], ['predict', 'x.png'], ['demo']]) {
      const r = cli([...args, '--threads', String(cores + 1)], work);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--threads must be between 1 and ${cores} (the logical cores of this machine), got '${cores + 1}'`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(cli([args[0]!, '--help'], work).stdout.replace(/\s+/g, ' ')).toContain(`(1 to ${cores}, the logical cores of this machine)`);
    }
  });
  it('a missing or empty data_root suggests prepare', () => {
    const r = cli(['train', '--data_root', join(work, 'nope')], work);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/does not exist.*tl-scratch prepare/);
    const empty = dir('empty');
    expect(cli(['train', '--data_root', empty], work).stderr).toMatch(/has no train\.h5 \(it is empty\).*prepare/);
  });
  it('an unreadable source model, a too large batch, a diverging loss: one line each, no stack trace, no half-written files', () => {
    const d = dir('bad');
    writeFileSync(join(d, 'junk.p'), 'this is not a model');
    let r = cli(['train', '--data_root', data, '--source_model', 'junk.p', ...TINY, '-e', '1', '-z', '4'], d);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tl-scratch: weight file junk\.p: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    r = cli(['train', '--data_root', data, '-z', '64', ...TINY], d);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/batch size 64 is larger than the training set/);
    r = cli(['train', '--data_root', data, '-z', '4', ...TINY, '--lr', '1e12', '-e', '3', '--save_path', 'div.h5', '--serialize', '1', '--no_progress_bar'], d);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tl-scratch: training diverged: the cost is NaN at epoch \d+, minibatch \d+/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(d, 'inference.txt'))).toBe(false);
    expect(readdirSync(d).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
  it('-b with an unregistered backend lists the registered ones (from the registry, also in --help); -v shows a stack trace', () => {
    const r = cli(['train', '-b', 'nosuch', '--data_root', data], work);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'nosuch' is invalid\. Allowed choices are cpu, ref\b/);
    const h = cli(['eval', '--help'], work);
    // each backend's line names the folder it runs (issue 20)
    expect(h.stdout).toMatch(/-b, --backend <name>\s+compute backend: cpu\s+\(src\/kernels\/cpu\/simd\/:\s+WebAssembly\s+SIMD\s+gemm/);
    expect(h.stdout).toMatch(/ref\s+\(src\/kernels\/cpu\/ref\/:\s+the\s+textbook\s+kernels/);
    expect(h.stdout).toMatch(/gpu\s+\(src\/kernels\/gpu\/webgl\/:\s+gpu\.js\s+kernels/);
    expect(h.stdout).toMatch(/choices:\s+"cpu",\s+"ref"/);
    const v = cli(['train', '--data_root', join(work, 'nope'), '-v'], work);
    expect(v.stderr).toMatch(/\n\s+at /);
  });
});

describe('tl-scratch summary', () => {
  it('prints every layer with output shape, parameters and MFLOPs, and the totals of VGG-16', () => {
    const r = cli(['summary', '--model', 'vgg16', '--nclass', '1000', '-z', '2'], work);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/conv1_1\s+Convolution\s+\(64, 224, 224\)\s+1,728\s+173\.41/);
    expect(r.stdout).toMatch(/fc8\s+Linear\s+\(1000\)\s+4,096,000/);
    expect(r.stdout).toMatch(/total\s+input \(3, 224, 224\)\s+138,357,544\s+30960\.\d\d/);
    expect(r.stdout).toMatch(/per minibatch of 2: 61\.92 GFLOP forward/);
  });
});

describe('tl-scratch eval on another weight format', () => {
  it('reads a safetensors file holding the whole model (lab names) and reproduces the checkpoint\'s accuracy', async () => {
    const d = dir('safetensors');
    expect(cli(['train', '--data_root', data, '-e', '2', '-z', '4', ...TINY, '--lr', '0.01', '--save_path', 'm.h5', '--serialize', '2', '--no_progress_bar'], d).code).toBe(0);
    // Write every parameter as '<layer>.weight' (conv/linear) and '<layer>.bias' (the layer's _bias), per the safetensors spec.
    const a = await arrays(join(d, 'm.h5'));
    const f = await openH5(join(d, 'm.h5'));
    const shapes: Record<string, number[]> = {};
    try {
      const layers = f.get('layers') as H5Group;
      for (const name of layers.keys()) for (const k of (layers.get(name) as H5Group).keys()) if (k !== 'states') shapes[`${name}/${k}`] = [...((layers.get(name) as H5Group).get(k) as H5Dataset).shape!];
    } finally {
      f.close();
    }
    const header: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const key of Object.keys(shapes)) {
      const [layer, param] = key.split('/') as [string, string];
      const name = param === 'b' ? `${layer.replace(/_bias$/, '')}.bias` : `${layer}.weight`;
      const bytes = Buffer.from(Float32Array.from(a[key]!).buffer);
      header[name] = { dtype: 'F32', shape: shapes[key], data_offsets: [offset, offset + bytes.length] };
      chunks.push(bytes);
      offset += bytes.length;
    }
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(join(d, 'm.safetensors'), Buffer.concat([len, json, ...chunks]));
    const fromH5 = cli(['eval', '--model_file', 'm.h5', '--data_root', data, ...TINY], d);
    const fromSt = cli(['eval', '--model_file', 'm.safetensors', '--data_root', data, ...TINY, '--inference_file', 'st.txt'], d);
    expect(fromSt.stderr).toBe('');
    expect(fromSt.code).toBe(0);
    expect(fromSt.stdout).toMatch(/initialized all 32 parameter layers from m\.safetensors \(safetensors\)/);
    expect(/Accuracy = .*/.exec(fromSt.stdout)![0]).toBe(/Accuracy = .*/.exec(fromH5.stdout)![0]);
    expect(readFileSync(join(d, 'st.txt'), 'utf8')).toBe(readFileSync(join(d, 'inference.txt'), 'utf8'));
  });
});

describe('tl-scratch demo', () => {
  it('runs offline with the shipped source model: the cost of finetune and extract falls, the report holds test curves (a short run)', () => {
    const d = dir('demo');
    const r = cli(['demo', '--seeds', '1', '-e', '20', '--eval_every', '10', '--train_per_class', '10'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 runs \(3 experiments × 1 seeds\) on \d+ workers?, backend cpu/);
    // Each run reports its epochs as they end, from the worker threads.
    const costs = (e: string) => [...r.stdout.matchAll(new RegExp(`^ +${e} seed 0: epoch (\\d+)/20 cost (\\d+\\.\\d{3})`, 'gm'))].sort((a, b) => Number(a[1]) - Number(b[1])).map((m) => Number(m[2]));
    for (const e of ['scratch', 'finetune', 'extract']) expect(costs(e), e).toHaveLength(20);
    const avg = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    for (const e of ['finetune', 'extract']) {
      const c = costs(e);
      // The transferred runs learn. An epoch is two minibatches with dropout in the head, so
      // single epochs are noisy: the mean of the last five epochs is under 1.0 and well under
      // that of the first three (a uniform output costs 2·ln 2 ≈ 1.39 under CrossEntropyBinary).
      expect(avg(c.slice(-5)), `${e}: ${c.join(' ')}`).toBeLessThan(1.0);
      expect(avg(c.slice(-5)), `${e}: ${c.join(' ')}`).toBeLessThan(avg(c.slice(0, 3)) - 0.3);
    }
    expect(r.stdout).toMatch(/finetune\s+26\s/);
    expect(r.stdout).toMatch(/extract\s+26\s+25,090 of 255,514/);
    expect(r.stdout).toMatch(/the mean test accuracy before training and after it: scratch from [\d.]+% to [\d.]+%, finetune from/);
    const files = readdirSync(join(d, 'report')).sort();
    expect(files).toEqual(['accuracy.svg', 'index.md', 'inference_extract_seed0.txt', 'inference_finetune_seed0.txt', 'inference_scratch_seed0.txt', 'loss.svg']);
    // Test accuracy before training (epoch 0) and at epochs 10 and 20, one line per experiment.
    const acc = readFileSync(join(d, 'report', 'accuracy.svg'), 'utf8');
    expect(acc).toMatch(/Test accuracy per epoch/);
    const lines = [...acc.matchAll(/<polyline class="series" data-name="(\w+)"[^>]* points="([^"]*)"/g)].map((m) => [m[1], m[2]!.trim().split(/\s+/).length]);
    expect(lines).toEqual([['scratch', 3], ['finetune', 3], ['extract', 3]]);
    expect(readFileSync(join(d, 'report', 'inference_scratch_seed0.txt'), 'utf8').trim().split('\n')).toHaveLength(2001);
  }, 180_000);

  it('bad input: --seeds 0 and --epochs 0 are usage errors (exit 2); a source model of another architecture, one line and exit 1', () => {
    const d = dir('demo-bad');
    for (const [flag, value] of [['--seeds', '0'], ['--epochs', '0'], ['--eval_every', '-1']] as const) {
      const r = cli(['demo', flag, value], d);
      expect(r.code, `${flag} ${value}`).toBe(2);
      // One line saying what is wrong, and commander's pointer to --help.
      expect(r.stderr.trim().split('\n'), r.stderr).toEqual([expect.stringContaining(`${flag} must be an integer`), '(run with --help for usage)']);
    }
    const b = cli(['demo', '-b', 'nosuch'], d);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/'nosuch' is invalid\. Allowed choices are cpu, ref\b/);
    // A VGG-16 of another width: its conv1_1 has 4 filters where the demo's has 8.
    expect(cli(['train', '--model', 'vgg16', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--save_path', 'other.h5', '--serialize', '1', '--no_progress_bar'], d).code).toBe(0);
    const r = cli(['demo', '--source_model', 'other.h5', '--seeds', '1', '-e', '1'], d);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/source model other\.h5 does not fit the demo's VGG-16 .*conv1_1/);
    expect(r.stdout).not.toMatch(/runs \(3 experiments/);
    const junk = join(d, 'junk.h5');
    writeFileSync(junk, 'not an HDF5 file');
    const j = cli(['demo', '--source_model', 'junk.h5'], d);
    expect(j.code).toBe(1);
    expect(j.stderr.trim().split('\n'), j.stderr).toHaveLength(1);
    expect(j.stderr).toContain('junk.h5');
  }, 120_000);
});
