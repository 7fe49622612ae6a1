// The demo's model: VGG-16 at width 1/8 (convs of 8, 16, 32, 64, 64 channels), fc 128,
// 2 classes, on 1×32×32 images: one training step at batch 10 (SGD momentum, as the demo
// trains) and one inference pass at batch 50 (as it evaluates). Every conv here is small
// (per image at most 72×1024 columns), so the cost is in the many small gemms.
//
// Peer: the same model with convolutions done one image per gemm (conv2d's column budget
// set to one image: the way every conv ran before images were batched into one gemm). It
// isolates the batching alone; the gemm packing and im2col changes made with it speed up
// both. Against the engine before those changes (commit f39bc0a, built separately, the two
// alternated 5 times on the loaded 2-core machine, medians): training step 314 → 209 ms,
// inference 464 → 332 ms.
import { setConvColumnBudget } from '../src/autograd/ops/conv.js';
import { generateVgg16TransferModel } from '../src/models/vgg16.js';
import { GradientDescentMomentum } from '../src/optim/index.js';
import { describeTiming, measure, type Benchmark, type Row } from './harness.js';
import { forwardFlopsPerExample, randomBatch, trainingStep } from './model-step.js';

const IN_SHAPE = [1, 32, 32] as const;
const TRAIN_BSZ = 10, EVAL_BSZ = 50;

function build() {
  const model = generateVgg16TransferModel({ widthMult: 0.125, fcSize: 128 });
  model.initialize(IN_SHAPE);
  return model;
}

interface Times { train: number; infer: number }

function time(log: (m: string) => void, label: string): Times {
  const model = build();
  const opt = new GradientDescentMomentum(0.003, { momentumCoef: 0.9, wdecay: 0.0005 });
  const step = trainingStep(model, opt, IN_SHAPE, randomBatch(TRAIN_BSZ, IN_SHAPE, 2, 1));
  const flops = forwardFlopsPerExample(model);
  const tr = measure(step, { warmup: 2, runs: 9 });
  log(`  ${label} training step, batch ${TRAIN_BSZ}: ${describeTiming(tr)}, ${((3 * TRAIN_BSZ * flops) / tr.median / 1e9).toFixed(2)} GFLOP/s`);
  const eb = randomBatch(EVAL_BSZ, IN_SHAPE, 2, 2);
  const inf = measure(() => model.fprop(eb.x, true), { warmup: 1, runs: 7 });
  log(`  ${label} inference, batch ${EVAL_BSZ}: ${describeTiming(inf)}, ${((EVAL_BSZ * flops) / inf.median / 1e9).toFixed(2)} GFLOP/s`);
  return { train: tr.median, infer: inf.median };
}

export const demoBench: Benchmark = {
  name: 'demo',
  ids: [],
  title: `demo step: VGG-16 width 1/8, fc 128, 1×32×32, training step at batch ${TRAIN_BSZ} and inference at batch ${EVAL_BSZ}`,
  async run(log) {
    // Interleave ours and the peer twice, so a burst of load on the shared core hits both.
    const ours: Times[] = [], peer: Times[] = [];
    for (let round = 0; round < 2; round++) {
      ours.push(time(log, 'batched'));
      const prev = setConvColumnBudget(0);
      try {
        peer.push(time(log, 'per image'));
      } finally {
        setConvColumnBudget(prev);
      }
    }
    const best = (ts: Times[], k: keyof Times) => Math.min(...ts.map((t) => t[k]));
    const peerName = 'same, conv one image per gemm';
    const note = 'ms per step: the lower of two interleaved rounds, each a median; the peer is this engine with conv2d doing one gemm per image (as before batching)';
    const rows: Row[] = [
      { workload: `demo VGG-16/8 train step b${TRAIN_BSZ} 1×32²`, unit: 'ms', ours: 1000 * best(ours, 'train'), peer: peerName, peerValue: 1000 * best(peer, 'train'), note },
      { workload: `demo VGG-16/8 inference b${EVAL_BSZ} 1×32²`, unit: 'ms', ours: 1000 * best(ours, 'infer'), peer: peerName, peerValue: 1000 * best(peer, 'infer'), note },
    ];
    return rows;
  },
};
