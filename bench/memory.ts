// Resident memory over many training steps of the demo's model (VGG-16 width 1/8, fc 128,
// 1×32×32, batch 10, SGD momentum) on the `cpu` backend with its worker threads, against
// the reference backend: RSS after 50 steps (everything allocated once, JIT warm) and
// after 500. Flat means the fast backend's shared buffers, per-thread WebAssembly
// memories and convolution scratch are reclaimed, not accumulated. Not a timing.
import { generateVgg16TransferModel } from '../src/models/vgg16.js';
import { GradientDescentMomentum } from '../src/optim/index.js';
import { setBackend } from '../src/kernels/index.js';
import type { Benchmark, Row } from './harness.js';
import { randomBatch, trainingStep } from './model-step.js';

const IN_SHAPE = [1, 32, 32] as const, BSZ = 10, WARM = 50, STEPS = 500;
const mb = () => process.memoryUsage().rss / 2 ** 20;

function growth(backend: 'cpu' | 'ref', log: (m: string) => void): { at50: number; atEnd: number } {
  setBackend(backend);
  try {
    const model = generateVgg16TransferModel({ widthMult: 0.125, fcSize: 128 });
    const opt = new GradientDescentMomentum(0.003, { momentumCoef: 0.9, wdecay: 0.0005 });
    const step = trainingStep(model, opt, IN_SHAPE, randomBatch(BSZ, IN_SHAPE, 2, 1));
    let at50 = 0;
    const samples: string[] = [];
    for (let i = 1; i <= STEPS; i++) {
      step();
      if (i === WARM) at50 = mb();
      if (i % 50 === 0) samples.push(mb().toFixed(0));
    }
    const atEnd = mb();
    log(`  ${backend}: RSS every 50 steps (MB): ${samples.join(', ')}`);
    return { at50, atEnd };
  } finally {
    setBackend('cpu');
  }
}

export const memoryBench: Benchmark = {
  name: 'memory',
  ids: [],
  optIn: true,
  title: `resident memory over ${STEPS} training steps of the demo model (batch ${BSZ}, 1×32×32): cpu backend vs ref`,
  async run(log) {
    const ref = growth('ref', log), cpu = growth('cpu', log);
    const note = `RSS growth from step ${WARM} to step ${STEPS}, MB (flat: near 0; garbage collection makes it move by a few MB either way)`;
    return [
      { workload: `demo model RSS growth, steps ${WARM}→${STEPS}, cpu`, unit: 'MB', ours: cpu.atEnd - cpu.at50, peer: 'ref backend', peerValue: ref.atEnd - ref.at50, note },
      { workload: `demo model RSS at step ${STEPS}, cpu`, unit: 'MB', ours: cpu.atEnd, peer: 'ref backend (run first)', peerValue: ref.atEnd },
    ] satisfies Row[];
  },
};
