// Opt-in (`npm run bench -- webgpu`): the WebGPU backend (src/kernels/gpu/webgpu/) against
// the gpu.js backend (gpu) and the cpu backend on the same work: a square gemm, one
// convolution layer forward + backward (dx, dw, db), and one training step of VGG-16 width
// 1/16, fc 16, 3×32×32, batch 8 as Model.fit runs it; the gemm and the conv layer also on
// tfjs-backend-webgpu, in this process on the same Dawn adapter kind (./peers/tfjs-webgpu.ts). Each webgpu run ends by waiting for
// the GPU (webgpuSync), so the times are the GPU's. On a software adapter (Mesa's llvmpipe,
// SwiftShader) the shapes are small and only the ratios mean anything: the table says so.
import { getBackend, setBackend } from '../src/kernels/index.js';
import type { Backend } from '../src/kernels/backend.js';
import { windowGeometry } from '../src/kernels/geometry.js';
import { webgpuInfo, webgpuSync } from '../src/kernels/gpu/webgpu/index.js';
import { generateVgg16TransferModel } from '../src/models/vgg16.js';
import { GradientDescentMomentum } from '../src/optim/index.js';
import { describeTiming, measure, type Benchmark, type Row } from './harness.js';
import { randomBatch, randomData, trainingStep } from './model-step.js';
import type { Tf } from './peers/tfjs.js';
import { measureAsync, startTfWebgpu, tfConv, tfGemm, tfWebgpuLabel } from './peers/tfjs-webgpu.js';

const BACKENDS = ['webgpu', 'gpu', 'cpu'] as const;
const settle = (name: string): void => {
  if (name === 'webgpu') webgpuSync();
};

function gemmCase(be: Backend, n: number): () => void {
  const a = be.upload(randomData(n * n, 1)), b = be.upload(randomData(n * n, 2)), c = be.alloc('float32', n * n);
  return () => {
    be.gemm(false, false, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n);
    settle(be.name);
  };
}

function convCase(be: Backend, N: number, C: number, HW: number): () => void {
  const g = windowGeometry('bench', C, HW, HW, 3, 3, { padding: 1 });
  const x = be.upload(randomData(N * C * HW * HW, 3)), w = be.upload(randomData(C * C * 9, 4)), bias = be.upload(randomData(C, 5));
  const y = be.alloc('float32', N * C * g.P * g.Q), dx = be.alloc('float32', N * C * HW * HW), dw = be.alloc('float32', C * C * 9), db = be.alloc('float32', C);
  return () => {
    be.conv2dForward(x, N, w, C, bias, g, y);
    be.conv2dBackward(x, N, w, C, g, y, dx, dw, db);
    settle(be.name);
  };
}

/** One training step of the lab's VGG-16 transfer model (width × w, fc layers of `fc` units) on `batch` images hw². */
function stepCase(name: string, w = 1 / 16, fc = 16, hw = 32, batch = 8): () => void {
  setBackend(name);
  const model = generateVgg16TransferModel({ widthMult: w, fcSize: fc });
  const opt = new GradientDescentMomentum(0.003, { momentumCoef: 0.9, wdecay: 0.0005 });
  const step = trainingStep(model, opt, [3, hw, hw], randomBatch(batch, [3, hw, hw], 2, 1));
  return () => {
    step();
    settle(name);
  };
}

export const webgpuBench: Benchmark = {
  name: 'webgpu',
  ids: [],
  title: 'WebGPU backend (Dawn) vs gpu (gpu.js) and cpu: gemm, a 3×3 conv layer fwd+bwd, a VGG-16 w1/16 training step',
  optIn: true,
  async run(log) {
    const info = webgpuInfo();
    log(`  webgpu adapter: ${info.adapter} (${info.backend}, ${info.featureLevel}${info.software ? ', software renderer: compare ratios only' : ''})`);
    const soft = info.software;
    const n = soft ? 256 : 2048;
    const [N, C, HW] = soft ? [2, 16, 32] : [16, 64, 56];
    type TfCase = (tf: Tf) => { run: () => Promise<void>; dispose: () => void };
    const cases: { label: string; unit: string; work: number; make: (name: string) => () => void; tfjs?: TfCase; only?: string[] }[] = [
      { label: `gemm ${n}³ f32`, unit: 'GFLOP/s', work: 2 * n ** 3 / 1e9, make: (b) => gemmCase(getBackend(b), n), tfjs: (tf) => tfGemm(tf, n, randomData) },
      { label: `conv 3×3 ${C}→${C} ${HW}² batch ${N} fwd+bwd`, unit: 'GFLOP/s', work: 3 * 2 * N * C * C * 9 * HW * HW / 1e9, make: (b) => convCase(getBackend(b), N, C, HW), tfjs: (tf) => tfConv(tf, N, C, HW, randomData) },
      { label: 'VGG-16 w1/16 fc16 32² training step, batch 8', unit: 'img/s', work: 8, make: (b) => stepCase(b) },
    ];
    // The lab at its real size, for a machine with a GPU (bench/real-gpu.sh sets TL_BENCH_VGG224=1):
    // minutes per step on the CPU, so not by default; gpu.js is left out (hours).
    if (process.env.TL_BENCH_VGG224 === '1') cases.push({ label: 'VGG-16 (the lab\'s transfer model, fc 4096) 224² training step, batch 32', unit: 'img/s', work: 32, make: (b) => stepCase(b, 1, 4096, 224, 32), only: ['webgpu', 'cpu'] });
    const rows: Row[] = [];
    const note = soft ? `webgpu on a software adapter (${info.adapter}): only the ratios mean anything` : `webgpu on ${info.adapter} (${info.backend})`;
    // tfjs-backend-webgpu on the same kind of Dawn adapter, in this process (./peers/tfjs-webgpu.ts)
    const tf = await startTfWebgpu(info.how === 'OpenGL ES');
    const tfNote = typeof tf === 'string' ? `tfjs-webgpu cannot start in Node: ${tf}` : `tfjs-webgpu on Dawn (${info.how}), NHWC; conv: Conv2D + Conv2DBackpropInput + Conv2DBackpropFilter (ours adds the bias and its gradient)`;
    log(`  ${typeof tf === 'string' ? tfNote : `${tfWebgpuLabel()}: started on Dawn (${info.how})`}`);
    try {
      for (const c of cases) {
        const rate: Record<string, number | null> = {};
        for (const b of BACKENDS) {
          if (c.only && !c.only.includes(b)) continue;
          try {
            const t = measure(c.make(b), { warmup: 1, runs: c.only ? 2 : soft ? 3 : 7 });
            rate[b] = c.work / t.median;
            log(`  ${c.label} on ${b}: ${describeTiming(t)}`);
          } catch (e) {
            rate[b] = null;
            log(`  ${c.label} on ${b}: not measured (${(e as Error).message.split('\n')[0]})`);
          }
        }
        for (const peer of (['gpu', 'cpu'] as const).filter((p) => !c.only || c.only.includes(p))) rows.push({ workload: `webgpu ${c.label}`, unit: c.unit, ours: rate.webgpu ?? null, peer: `${peer} backend`, peerValue: rate[peer] ?? null, note });
        if (c.tfjs) {
          let peerValue: number | null = null;
          if (typeof tf !== 'string') {
            const k = c.tfjs(tf);
            try {
              const t = await measureAsync(k.run, soft ? 3 : 7);
              peerValue = c.work / t;
              log(`  ${c.label} on ${tfWebgpuLabel()}: ${t.toFixed(3)} s median`);
            } catch (e) {
              log(`  ${c.label} on tfjs-webgpu: not measured (${(e as Error).message.split('\n')[0]})`);
            } finally {
              k.dispose();
            }
          }
          rows.push({ workload: `webgpu ${c.label}`, unit: c.unit, ours: rate.webgpu ?? null, peer: typeof tf === 'string' ? 'tfjs-webgpu 4.22.0' : tfWebgpuLabel(), peerValue, note: `${note}; ${tfNote}` });
        }
      }
    } finally {
      setBackend('cpu');
    }
    return rows;
  },
};
