// Issue 26, point 2: `npm run bench -- prefetch` (opt-in). How much of a training step is
// spent waiting for data when training streams a neon HDF5 file at 224², with and without
// prefetch (src/data/prefetch.ts), on the cpu backend.
//
// The file: NUM_ROWS rows of 3×224×224 uint8 with a mean image, written once into
// os.tmpdir() and reused. The model: VGG-16 reduced to width ×1/4 and fc 256, batch 8, so
// a step is short and the data wait weighs more than with the full network (a harder test
// of the overlap). Model.fit runs the epochs with the profile attached (the CLI's
// --profile: its step time includes the data wait); the data wait itself is the time the
// loop spends inside the iterator's next(), measured by a wrapper around the iterator. One
// epoch of warm-up, then one measured epoch per mode, modes alternated over two rounds.
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { NeonH5Writer } from '../src/data/h5write.js';
import { HDF5IteratorOneHot } from '../src/data/hdf5.js';
import { WrappedIterator, type Batch, type BatchOptions } from '../src/data/iterator.js';
import { PrefetchIterator } from '../src/data/prefetch.js';
import { generateVgg16TransferModel } from '../src/models/vgg16.js';
import { Profile } from '../src/models/profile.js';
import { GradientDescentMomentum } from '../src/optim/index.js';
import { manualSeed } from '../src/tensor/random.js';
import { writeAtomic } from '../src/util/atomic.js';
import { median, type Benchmark } from './harness.js';

const NUM_ROWS = 48;
const LSHAPE = [3, 224, 224] as const;
const BSZ = 8;
const PATH = join(os.tmpdir(), `tl-scratch-bench-prefetch-${NUM_ROWS}x${LSHAPE.join('x')}.h5`);

async function ensureFile(log: (m: string) => void): Promise<void> {
  const F = LSHAPE[0] * LSHAPE[1] * LSHAPE[2];
  if (existsSync(PATH) && statSync(PATH).size >= NUM_ROWS * F) return;
  log(`  writing ${PATH} (${NUM_ROWS} rows of ${LSHAPE.join('×')} uint8), once ...`);
  await writeAtomic(PATH, async (tmp) => {
    const w = await NeonH5Writer.create(tmp, { lshape: LSHAPE, nclass: 2, dtype: 'uint8' });
    try {
      const row = new Uint8Array(F);
      for (let i = 0; i < NUM_ROWS; i++) {
        for (let k = 0; k < F; k++) row[k] = (i * 37 + k * 11) & 255;
        w.append(row, i & 1);
      }
      w.writeMean(Float32Array.from({ length: F }, (_, k) => (k * 11) & 127));
    } finally {
      w.close();
    }
  });
}

/** Counts the time the consumer spends waiting inside the wrapped iterator's next(). */
class TimedIterator extends WrappedIterator {
  waitMs = 0;
  *batches(opts?: BatchOptions): Generator<Batch, void, undefined> {
    const g = this.inner.batches(opts);
    for (;;) {
      const t0 = performance.now();
      const n = g.next();
      this.waitMs += performance.now() - t0;
      if (n.done) return;
      yield n.value;
    }
  }
}

/** One measured epoch: data wait and step time (the profile's), in ms per step. */
async function epoch(prefetch: boolean): Promise<{ waitMs: number; stepMs: number; outsideMs: number }> {
  manualSeed(1);
  const file = await HDF5IteratorOneHot.open(PATH, { bsz: BSZ });
  const timed = new TimedIterator(prefetch ? new PrefetchIterator(file) : file);
  try {
    const model = generateVgg16TransferModel({ widthMult: 0.25, fcSize: 256 });
    const optimizer = new GradientDescentMomentum(0.001, { momentumCoef: 0.9, wdecay: 0.0005 });
    await model.fit(timed, { optimizer, numEpochs: 1, cost: model.cost! }); // epoch 1, a warm-up: initialization, first allocations
    timed.waitMs = 0;
    const profile = new Profile(); // epoch 2, measured (fit counts epochs from the model's own)
    await model.fit(timed, { optimizer, numEpochs: 2, cost: model.cost!, callbacks: [profile.callback()] });
    const steps = timed.nbatches;
    const outside = profile.rows().find((r) => r.layer === '' && r.pass.startsWith('outside layers'))!.ms;
    return { waitMs: timed.waitMs / steps, stepMs: profile.stepMs / steps, outsideMs: outside / steps };
  } finally {
    timed.close();
  }
}

export const prefetchBench: Benchmark = {
  name: 'prefetch',
  ids: [],
  title: `data wait as a share of a training step streaming a 224² neon HDF5 file, with and without prefetch (reduced VGG-16, batch ${BSZ}, cpu)`,
  optIn: true,
  async run(log) {
    await ensureFile(log);
    const res: Record<'on' | 'off', { waitMs: number; stepMs: number; outsideMs: number }[]> = { on: [], off: [] };
    for (let round = 0; round < 2; round++) {
      for (const mode of ['off', 'on'] as const) {
        const r = await epoch(mode === 'on');
        res[mode].push(r);
        log(`  prefetch ${mode}: step ${r.stepMs.toFixed(0)} ms, data wait ${r.waitMs.toFixed(1)} ms (${((100 * r.waitMs) / r.stepMs).toFixed(1)}%), profile's outside layers ${r.outsideMs.toFixed(1)} ms`);
      }
    }
    const share = (m: 'on' | 'off') => median(res[m].map((r) => (100 * r.waitMs) / r.stepMs));
    const step = (m: 'on' | 'off') => median(res[m].map((r) => r.stepMs));
    const wait = (m: 'on' | 'off') => median(res[m].map((r) => r.waitMs));
    const steps = NUM_ROWS / BSZ;
    return [
      { workload: `prefetch 224² HDF5 data wait, share of a step (reduced VGG-16 b${BSZ}, cpu)`, unit: '%', ours: share('on'), peer: 'same without prefetch', peerValue: share('off'), note: `medians of 2 epochs of ${steps} steps per mode; data wait ${wait('on').toFixed(1)} vs ${wait('off').toFixed(1)} ms per step; target ≤ 5% with prefetch` },
      { workload: `prefetch 224² HDF5 step time (reduced VGG-16 b${BSZ}, cpu)`, unit: 'ms', ours: step('on'), peer: 'same without prefetch', peerValue: step('off'), note: 'the profile\'s step time (data wait included)' },
    ];
  },
};
