// The lab at its real size: the full VGG-16 transfer model (fc 4096-4096-2) trained at
// 3×224×224, batch 32, on a generated sample of 64 face-sized images in neon's HDF5 format
// (two steps: one epoch of the sample), with each backend that can and with PyTorch in the
// same run, every side in a fresh process: seconds per step, images per second, and the
// process's peak resident memory (VmHWM). From those, the time of one epoch of 40,000 faces
// on this machine, extrapolated linearly (an epoch is 1,250 such steps).
//
// Backends: cpu (its threads: every core). ref, the single-threaded textbook kernels, only
// with TL_REAL_SIZE_REF=1 (one step; see the log line for why). gpu and webgpu: not run, they
// need a GPU to be anything but slower than ref (README, the GPU backends). PyTorch:
// bench/peers/torch_peer.py with the Python that has torch, reading the same file through
// python/neon_hdf5.py, at the same thread count; one line says skipped where there is none.
// Opt-in (`npm run bench -- real-size`): a step of the cpu backend takes about a minute here.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NeonH5Writer } from '../src/data/h5write.js';
import { Generator } from '../src/index.js';
import type { Benchmark, Row } from './harness.js';
import type { ChildResult } from './peers/child.js';
import { ROOT, findTorchPython, spawnSide } from './peers.js';

const IMAGES = 64, BSZ = 32, STEPS = IMAGES / BSZ, SIZE = 224;
const EPOCH = 40_000;
const CHILD = fileURLToPath(new URL('./peers/real-size-child.js', import.meta.url));

/**
 * 64 images of 3×224×224 in two classes: a bright ellipse ("a face") on a noisy background,
 * class 1 with a darker lower half, so the data is not constant; the training split's mean per channel.
 */
async function writeSample(path: string): Promise<void> {
  const g = new Generator(26);
  const F = 3 * SIZE * SIZE;
  const w = await NeonH5Writer.create(path, { lshape: [3, SIZE, SIZE], nclass: 2, classNames: ['female', 'male'], channelOrder: 'rgb' });
  const sum = new Float64Array(3);
  const row = new Uint8Array(F);
  for (let i = 0; i < IMAGES; i++) {
    const label = i % 2;
    const cx = SIZE / 2 + g.uniform(-20, 20), cy = SIZE / 2 + g.uniform(-20, 20);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const inFace = ((x - cx) / 70) ** 2 + ((y - cy) / 90) ** 2 < 1;
          let v = (inFace ? 170 + 20 * c : 60) + g.uniform(-30, 30);
          if (label === 1 && inFace && y > cy) v -= 50;
          const b = Math.max(0, Math.min(255, Math.round(v)));
          row[c * SIZE * SIZE + y * SIZE + x] = b;
          sum[c]! += b;
        }
      }
    }
    w.append(row, label);
  }
  w.writeMean(Float32Array.from(sum, (s) => s / (IMAGES * SIZE * SIZE)));
  w.close();
}

const hours = (secondsPerStep: number) => (secondsPerStep * EPOCH) / BSZ / 3600;

export const realSizeBench: Benchmark = {
  name: 'real-size',
  ids: [],
  title: `the lab's size: full VGG-16 at 3×${SIZE}×${SIZE}, batch ${BSZ}, ${IMAGES} generated images (${STEPS} steps) on cpu and in PyTorch, fresh processes; one epoch of ${EPOCH.toLocaleString('en')} faces extrapolated`,
  optIn: true,
  async run(log) {
    const threads = os.cpus().length;
    const dir = mkdtempSync(join(os.tmpdir(), 'tl-real-size-'));
    try {
      const file = join(dir, 'train.h5');
      await writeSample(file);
      log(`  sample: ${file}, ${IMAGES} images 3×${SIZE}×${SIZE} uint8, 2 classes`);
      const sides: { label: string; r: ChildResult | string }[] = [];
      log(`  cpu, ${threads} threads: ${STEPS} steps...`);
      sides.push({ label: `cpu, ${threads} threads`, r: spawnSide(process.execPath, [CHILD, 'cpu', String(threads), file, String(BSZ), String(STEPS)], {}, 1800) });
      if (process.env.TL_REAL_SIZE_REF === '1') {
        log('  ref: 1 step...');
        sides.push({ label: 'ref', r: spawnSide(process.execPath, [CHILD, 'ref', '1', file, String(BSZ), '1'], {}, 3600) });
      } else {
        log('  ref: skipped (TL_REAL_SIZE_REF=1 runs one step): single-threaded textbook kernels, several times slower than cpu on the VGG-16 step (bench vgg, W3a), so one step of 32 at 224² takes many minutes');
      }
      log('  gpu, webgpu: not run: without a GPU (gpu.js webasm, WebGPU on llvmpipe) both are slower than ref');
      const py = await findTorchPython();
      let torch: ChildResult | string;
      if (py.missing) {
        torch = `skipped: ${py.missing}`;
        log(`  PyTorch ${torch}`);
      } else {
        log(`  PyTorch ${py.torch}, ${threads} threads: ${STEPS} steps...`);
        torch = spawnSide(py.python!, [join(ROOT, 'bench', 'peers', 'torch_peer.py'), 'real-size', String(threads), file, String(BSZ), String(STEPS)],
          { OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), PYTHONPATH: join(ROOT, 'python') }, 1800);
      }
      const peer = `PyTorch ${py.torch?.replace(/a0$/, '') ?? ''}, ${threads} threads${typeof torch === 'string' ? ` (${torch})` : ''}`;
      const tv = typeof torch === 'string' ? null : torch;
      const rows: Row[] = [];
      for (const { label, r } of sides) {
        if (typeof r === 'string') log(`  ${label}: ${r}`);
        const v = typeof r === 'string' ? null : r;
        if (v) log(`  ${label}: steps ${v.samples.map((s) => s.toFixed(1)).join(', ')} s; peak ${(v.peakMB / 1024).toFixed(2)} GB; cpu ${(100 * (v.cpuShare ?? NaN)).toFixed(0)}% of one core; one epoch of ${EPOCH} faces ≈ ${hours(v.seconds!).toFixed(1)} h (extrapolated)`);
        const note = `fresh process per side; ${label === 'ref' ? 'one step' : `median of ${STEPS} steps, no warm-up (each reads its batch from the HDF5 file)`}`;
        rows.push({ workload: `real size: VGG-16 train b${BSZ} 224², ${label}`, unit: 'img/s', ours: v && BSZ / v.seconds!, peer, peerValue: tv && BSZ / tv.seconds!, note });
        rows.push({ workload: `real size: peak resident memory, ${label}`, unit: 'MB', ours: v && v.peakMB, peer, peerValue: tv && tv.peakMB, note: 'VmHWM of each side\'s process' });
        rows.push({ workload: `real size: one epoch of ${EPOCH} faces (extrapolated), ${label}`, unit: 'h', ours: v && hours(v.seconds!), peer, peerValue: tv && hours(tv.seconds!), note: `${EPOCH / BSZ} steps × the median step, linear extrapolation (no test pass, no data preparation)` });
      }
      if (tv) log(`  PyTorch: steps ${tv.samples.map((s) => s.toFixed(1)).join(', ')} s; peak ${(tv.peakMB / 1024).toFixed(2)} GB; cpu ${(100 * (tv.cpuShare ?? NaN)).toFixed(0)}% of one core; one epoch of ${EPOCH} faces ≈ ${hours(tv.seconds!).toFixed(1)} h (extrapolated)`);
      return rows;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
