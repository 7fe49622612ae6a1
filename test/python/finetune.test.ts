// The shipped PyTorch helpers (python/) against tl-scratch, with the Python that has torch
// and h5py (scripts/torch-python.mjs: $TL_PYTHON, /usr/bin/python3, python3); skipped with
// the reason where there is none. `npm run test:torch` runs this file alone.
//
// 1. neon_hdf5.py gives the same input bits as tl-scratch's preprocessing (neon, caffe,
//    torchvision) on a generated BGR file.
// 2. tl_vgg16.py loads an export and computes tl-scratch's outputs.
// 3. DistributedDataParallel: tl-scratch trains a small model (the demo's source model
//    transferred to T-shirt/top vs Shirt, widths ×1/8, 32×32), prepares the data and exports
//    the model; python/finetune.py fine-tunes it with the gloo backend in two CPU processes
//    started by torchrun --standalone; `tl-scratch eval` on the result gives PyTorch's own
//    accuracy and, example by example, its probabilities.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Generator } from '../../src/index.js';
import { NeonH5Writer } from '../../src/data/h5write.js';
import { preprocessRows, type PreprocessName } from '../../src/data/preprocess.js';
import { CLI } from '../cli/run.js';
// @ts-expect-error a plain .mjs module without types
import { torchPython } from '../../scripts/torch-python.mjs';

const ROOT = resolve(__dirname, '../..');
const PY = join(ROOT, 'python');
const found = torchPython() as { python?: string; torch?: string; missing?: string };
const python = found.python ?? '';
if (found.missing) console.warn(`test/python skipped: ${found.missing}`);

function run(cmd: string, args: string[], cwd: string, timeout = 480_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, PYTHONPATH: PY, OMP_NUM_THREADS: '1' } });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${out}`);
  return out;
}
const tl = (args: string[], cwd: string) => run(process.execPath, [CLI, ...args], cwd);
const py = (code: string, cwd: string) => run(python, ['-c', code], cwd);

/** The probability rows of the lab's inference file ("[p0, p1], target" lines after a header). */
function inferenceRows(path: string): { probs: number[][]; targets: number[] } {
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  const probs = lines.map((l) => JSON.parse(l.slice(0, l.lastIndexOf(']') + 1)) as number[]);
  const targets = lines.map((l) => Number(l.slice(l.lastIndexOf(',') + 1)));
  return { probs, targets };
}

const argmax = (p: number[]) => p.indexOf(Math.max(...p));

describe.skipIf(!python)('python/ helpers (PyTorch)', () => {
  it('neon_hdf5.NeonHDF5 gives the inputs tl-scratch computes, bit for bit, in all three conventions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-pyhdf5-'));
    const lshape = [3, 8, 6] as const, F = 3 * 8 * 6, N = 5;
    const g = new Generator(26);
    const x = Uint8Array.from({ length: N * F }, () => Math.floor(g.uniform(0, 256)));
    const mean = Float32Array.from({ length: F }, () => g.uniform(60, 160)); // a mean image
    const path = join(dir, 'train.h5');
    const w = await NeonH5Writer.create(path, { lshape, nclass: 2, classNames: ['a', 'b'], channelOrder: 'bgr' });
    for (let i = 0; i < N; i++) w.append(x.subarray(i * F, (i + 1) * F), i % 2);
    w.writeMean(mean);
    w.close();
    const names: PreprocessName[] = ['neon', 'caffe', 'torchvision'];
    py(
      `import numpy as np, torch\nfrom neon_hdf5 import NeonHDF5\n` +
        `for name in ${JSON.stringify(names)}:\n` +
        `    d = NeonHDF5(${JSON.stringify(path)}, name)\n` +
        `    assert len(d) == ${N} and d.channel_order == 'bgr' and d.class_names == ['a', 'b']\n` +
        `    xs = torch.stack([d[i][0] for i in range(len(d))]).numpy().astype('<f4')\n` +
        `    assert [d[i][1] for i in range(len(d))] == [i % 2 for i in range(len(d))]\n` +
        `    open(${JSON.stringify(dir)} + '/' + name + '.f32', 'wb').write(xs.tobytes())\n`,
      dir,
    );
    for (const name of names) {
      const want = preprocessRows(Float32Array.from(x), N, lshape, { name, channels: 'bgr', mean: name === 'neon' ? mean : null });
      const b = readFileSync(join(dir, `${name}.f32`));
      const got = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      expect(got.length, name).toBe(N * F);
      let differ = 0;
      for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) differ++;
      expect(differ, `${name}: values that differ`).toBe(0);
    }
  }, 60_000);

  it("tl_vgg16.load_vgg16 reads an export into torchvision's layout and gives tl-scratch's outputs", () => {
    // the export fixture and the outputs tl-scratch gives for it (test/export/torch.test.ts checks those)
    const ref = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/export/torch_outputs.json'), 'utf8')) as { probs: number[][] };
    const out = py(
      `import base64, json, numpy as np, torch\nfrom tl_vgg16 import load_vgg16\n` +
        `ref = json.load(open('test/fixtures/export/torch_outputs.json'))\n` +
        `x = torch.from_numpy(np.frombuffer(base64.b64decode(ref['input_f32le_base64']), '<f4').reshape(ref['input_shape']).copy())\n` +
        `m = load_vgg16('test/fixtures/export/vgg16-w1_16-fc16.safetensors').eval()\n` +
        `assert list(dict(m.named_children())) == ['features', 'avgpool', 'classifier']\n` +
        `assert abs(m.classifier[2].p - 0.5) < 1e-12 and len(m.features) == 31\n` +
        `with torch.no_grad(): print(json.dumps(torch.softmax(m(x), 1).tolist()))\n`,
      ROOT,
    );
    const probs = JSON.parse(out.trim().split('\n').pop()!) as number[][];
    expect(probs.length).toBe(ref.probs.length);
    probs.forEach((row, i) => row.forEach((p, j) => expect(Math.abs(p - ref.probs[i]![j]!)).toBeLessThan(1e-6)));
  }, 60_000);

  it('finetune.py with a missing data folder or model says so in one line and exits 1, no traceback', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-ddp-bad-'));
    for (const [args, want] of [
      [['--model', 'none.safetensors', '--data', dir], /^finetune\.py: --model: none\.safetensors does not exist \(a file written by `tl-scratch export`\)\n$/],
      [['--model', join(ROOT, 'test/fixtures/export/vgg16-w1_16-fc16.safetensors'), '--data', join(dir, 'nowhere')], /^finetune\.py: --data: .*nowhere\/train\.h5 does not exist \(a folder with train\.h5 and test\.h5 from `tl-scratch prepare`\)\n$/],
    ] as const) {
      const r = spawnSync(python, [join(PY, 'finetune.py'), ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(want);
      expect(r.stdout).toBe('');
    }
  }, 60_000);

  it('finetune.py under torchrun (gloo, 2 CPU processes) fine-tunes an export; tl-scratch eval on the result gives PyTorch\'s accuracy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-ddp-'));
    const started = performance.now();
    tl(['prepare', '--builtin', 'fashion-tshirt-shirt', '--out', 'data', '--size', '32', '--per_class', '64', '--no_progress_bar'], dir);
    const flags = ['--width_mult', '0.125', '--fc_size', '128'];
    tl(['train', '--data_root', 'data', '--source_model', join(ROOT, 'models/vgg16-fashion8-w0.125-fc128.h5'), ...flags,
      '-e', '2', '-z', '16', '--save_path', 'model.h5', '--serialize', '2', '--inference_file', 'before.txt', '--no_progress_bar'], dir);
    tl(['export', '--model_file', 'model.h5', '--out', 'model.safetensors'], dir);
    // torchrun is `python -m torch.distributed.run`. Non-zero --redirects/--tee: PyTorch 1.13's
    // launcher on Python 3.11 turns the default 0 into None and stops (README, DDP section).
    const log = run(python, ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '--redirects', '2', '--tee', '1', '--log_dir', 'torchrun-logs',
      join(PY, 'finetune.py'), '--model', 'model.safetensors', '--data', 'data', '--out', 'finetuned.safetensors', '--report', 'report.json',
      '--epochs', '2', '--batch_size', '16', '--lr', '0.001', '--backend', 'gloo'], dir);
    expect(log).toMatch(/2 processes \(gloo\), 128 training examples, 64 per process/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { accuracy: number; probs: number[][]; world_size: number; backend: string; param_checksums: number[][] };
    expect(report.world_size).toBe(2);
    expect(report.backend).toBe('gloo');
    // DDP kept the two processes' weights the same
    expect(report.param_checksums.length).toBe(2);
    expect(report.param_checksums[1]).toEqual(report.param_checksums[0]);

    const evalOut = tl(['eval', '--model_file', 'finetuned.safetensors', '--data_root', 'data', ...flags, '--inference_file', 'after.txt', '--no_progress_bar'], dir);
    const ours = inferenceRows(join(dir, 'after.txt'));
    expect(ours.probs.length).toBe(report.probs.length);
    // example by example: PyTorch's probabilities are ours
    let maxDiff = 0, right = 0;
    ours.probs.forEach((row, i) => {
      row.forEach((p, j) => (maxDiff = Math.max(maxDiff, Math.abs(p - report.probs[i]![j]!))));
      if (argmax(row) === ours.targets[i]) right++;
    });
    expect(maxDiff).toBeLessThan(1e-4);
    // the accuracy tl-scratch prints is PyTorch's (to the printed digit) and so is the count behind it
    expect(right / ours.probs.length).toBe(report.accuracy);
    expect(evalOut).toContain(`Accuracy = ${(100 * report.accuracy).toFixed(1)}%`);
    // and the model did change: the exported model's outputs are not these
    const before = inferenceRows(join(dir, 'before.txt'));
    const moved = before.probs.reduce((m, row, i) => Math.max(m, Math.abs(row[0]! - ours.probs[i]![0]!)), 0);
    expect(moved).toBeGreaterThan(1e-3);
    console.log(`DDP round trip: ${((performance.now() - started) / 1000).toFixed(1)} s wall (prepare, train, export, torchrun 2×gloo, eval); PyTorch accuracy ${(100 * report.accuracy).toFixed(2)}%`);
  }, 900_000); // about half a minute of CPU; minutes of wall time when the cores are shared
});
