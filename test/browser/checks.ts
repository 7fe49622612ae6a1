// Runs inside headless Chromium (test/browser/webgl.test.ts bundles it with the engine's
// browser entry): the GPU backend in gpu.js's WebGL2 mode against the reference backend,
// kernel by kernel on random inputs, then a reduced VGG-16 training step. Returns a plain
// report; the test asserts on it.
import {
  ArrayIterator, CrossEntropyBinary, GeneralizedCost, Generator, GradientDescentMomentum, generateVgg16TransferModel,
  getBackend, gpuDevice, manualSeed, registeredBackends, setBackend, windowGeometry,
} from '../../src/browser/index.js';
import type { Backend, BinaryOp, CostName, DeviceBuffer, GdmStep, UnaryOp } from '../../src/kernels/backend.js';
import { UNARY_BACKWARD_READS } from '../../src/kernels/backend.js';

export interface Check { what: string; worst: number; ok: boolean }
export interface BrowserReport {
  mode: string; renderer: string | null; notAGpu: string | null; maxTextureSize: number | null;
  checks: Check[]; kernelModes: string[]; packedCompiles: number;
  vgg: { lossGpu: number; lossPacked: number; lossRef: number; violations: number; params: number };
  textures: number[];
  /** Mean ms per training step (batch 4) over 10 epochs of 2 steps, evaluation included: for the docs, not asserted. */
  stepMs: { gpu: number; ref: number };
}

const RTOL = 1e-4, ATOL = 1e-5;

function rand(n: number, gen: Generator, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => gen.uniform(lo, hi));
}

export async function runChecks(): Promise<BrowserReport> {
  const gpu = getBackend('gpu');
  const ref = registeredBackends().find((b) => b.name === 'ref') ?? getBackend('cpu');
  const d = gpuDevice();
  const checks: Check[] = [];
  /** Worst |a − b| / (ATOL/RTOL + |b|) over the outputs, scaled so that ≤ RTOL passes. */
  const same = (what: string, fn: (b: Backend, up: (a: Float32Array) => DeviceBuffer) => DeviceBuffer[]): void => {
    const run = (b: Backend) => fn(b, (a) => b.upload(Float32Array.from(a))).map((o) => Float32Array.from(b.read(o, 0, b.lengthOf(o))));
    let worst = 0;
    try {
      const got = run(gpu), want = run(ref);
      got.forEach((o, i) => {
        const w = want[i]!;
        if (o.length !== w.length) worst = Infinity;
        for (let j = 0; j < o.length; j++) {
          const e = Math.abs(o[j]! - w[j]!) / (ATOL / RTOL + Math.abs(w[j]!));
          if (!(e <= worst) && !(Number.isNaN(o[j]!) && Number.isNaN(w[j]!))) worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
        }
      });
      checks.push({ what, worst, ok: worst <= RTOL });
    } catch (e) {
      checks.push({ what: `${what}: ${(e as Error).message}`, worst: Infinity, ok: false });
    }
  };
  const kernelChecks = (label: string): void => {
    const gen = new Generator(1);

    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const M = 5, N = 7, K = 6, lda = (tA ? M : K) + 2, ldb = (tB ? K : N) + 1, ldc = N + 3;
      const A = rand(3 + (tA ? K : M) * lda, gen), B = rand(2 + (tB ? N : K) * ldb, gen), C = rand(1 + M * ldc, gen);
      same(`${label}gemm ${tA} ${tB}`, (b, u) => { const c = u(C); b.gemm(tA, tB, M, N, K, 0.5, u(A), 3, lda, u(B), 2, ldb, 2, c, 1, ldc); return [c]; });
    }
    const Kl = 1500, A1 = rand(2 * Kl, gen), B1 = rand(Kl * 3, gen);
    same(`${label}gemm K = 1500 (trap 1)`, (b, u) => { const c = b.alloc('float32', 6); b.gemm(false, false, 2, 3, Kl, 1, u(A1), 0, Kl, u(B1), 0, 3, 0, c, 0, 3); return [c]; });
    for (const [label, g] of [
      ['3×3 pad 1', windowGeometry('t', 3, 9, 10, 3, 3, { padding: 1 })],
      ['2×3 stride 2 dilation 1,2', windowGeometry('t', 2, 7, 8, 2, 3, { stride: 2, padding: [1, 0], dilation: [1, 2] })],
    ] as const) {
      const N = 3, K = 4, CHW = g.C * g.H * g.W, PQ = g.P * g.Q, CRS = g.C * g.R * g.S;
      const x = rand(N * CHW, gen), w = rand(K * CRS, gen), bb = rand(K, gen), dy = rand(N * K * PQ, gen);
      same(`${label}conv ${label}`, (b, u) => {
        const y = b.alloc('float32', N * K * PQ), dx = b.alloc('float32', N * CHW), dw = u(w), db = u(bb);
        b.conv2dForward(u(x), N, u(w), K, u(bb), g, y);
        b.conv2dBackward(u(x), N, u(w), K, g, u(dy), dx, dw, db);
        return [y, dx, dw, db];
      });
      const dx0 = rand(CHW + 3, gen);
      same(`${label}im2col/col2im ${label}`, (b, u) => {
        const cols = b.alloc('float32', CRS * PQ * 2), dx = u(dx0);
        b.im2col(u(x), 4, g, cols, PQ, 2 * PQ);
        b.col2im(cols, g, dx, 3, PQ, 2 * PQ);
        return [cols, dx];
      });
    }
    const pg = windowGeometry('t', 2, 5, 6, 3, 3, { stride: 2, padding: 1 });
    const px = Float32Array.from(gen.permutation(2 * 2 * 30), (v) => v / 7 - 3), pn = 2 * 2 * pg.P * pg.Q, pdy = rand(pn, gen);
    same(`${label}max/avg pooling`, (b, u) => {
      const y = b.alloc('float32', pn), a = b.allocIndex(pn), dx = b.alloc('float32', px.length), ya = b.alloc('float32', pn), dxa = b.alloc('float32', px.length);
      b.maxPoolForward(u(px), 2, pg, y, a);
      b.maxPoolBackward(u(pdy), a, 2, pg, dx);
      b.avgPoolForward(u(px), 2, pg, true, ya);
      b.avgPoolBackward(u(pdy), 2, pg, false, dxa);
      return [y, dx, ya, dxa];
    });
    for (const op of ['neg', 'exp', 'log', 'sqrt', 'abs', 'relu', 'logistic', 'tanh'] as UnaryOp[]) {
      const x = rand(40, gen, op === 'log' || op === 'sqrt' ? 0.1 : -3, 3), dy = rand(40, gen);
      same(`${label}unary ${op}`, (b, u) => {
        const xb = u(x), y = b.alloc('float32', 40), dx = b.alloc('float32', 40);
        b.unary(op, xb, y, 40);
        const reads = UNARY_BACKWARD_READS[op];
        b.unaryBackward(op, reads === 'x' ? xb : null, reads === 'y' ? y : null, u(dy), dx, 40);
        return [y, dx];
      });
    }
    const ba = rand(25, gen), bv = rand(3, gen, 0.5, 2);
    for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min', 'ge'] as BinaryOp[]) {
      same(`${label}binary ${op}`, (b, u) => {
        const o = b.alloc('float32', 24), s = b.alloc('float32', 24), r = b.alloc('float32', 24);
        b.binary(op, { data: u(ba), offset: 1, shape: [2, 3, 4], strides: [12, 4, 1] }, { data: u(bv), offset: 0, shape: [2, 3, 4], strides: [0, 1, 0] }, o);
        b.binaryScalar(op, u(ba.subarray(1)), 1.5, s, 24, false);
        b.binaryScalar(op, u(ba.subarray(1)), 1.5, r, 24, true);
        return [o, s, r];
      });
    }
    const m = rand(12, gen);
    same(`${label}strided copy`, (b, u) => {
      const wide = u(new Float32Array(24).fill(7));
      b.copy({ data: u(m), offset: 0, shape: [4, 3], strides: [1, 4] }, { data: wide, offset: 1, shape: [4, 3], strides: [6, 2] });
      return [wide];
    });
    const rx = rand(60, gen), rdy = rand(4, gen);
    same(`${label}reduce, scatterAdd`, (b, u) => {
      const s = b.alloc('float32', 4), mx = b.alloc('float32', 4), a = b.allocIndex(4), dx = u(new Float32Array(60).fill(1));
      b.reduce('sum', u(rx), [3, 4, 5], [0, 2], s);
      b.reduce('max', u(rx), [3, 4, 5], [0, 2], mx, a);
      b.scatterAdd(u(rdy), a, 4, dx);
      return [s, mx, dx]; // the argmax through scatterAdd (an index buffer is not readable as values on the reference backend)
    });
    const sx = rand(15, gen, -4, 4), sdy = rand(15, gen);
    for (const log of [false, true]) {
      same(`${label}softmax log=${log}`, (b, u) => {
        const y = b.alloc('float32', 15), dx = b.alloc('float32', 15);
        b.softmax(u(sx), 3, 5, log, y);
        b.softmaxBackward(y, u(sdy), 3, 5, log, dx);
        return [y, dx];
      });
    }
    const cy = rand(12, gen, 0.05, 0.95), ct = Float32Array.from({ length: 12 }, (_, i) => (i % 3 === i % 2 ? 1 : 0));
    for (const cost of ['CrossEntropyBinary', 'CrossEntropyMulti', 'SumSquared'] as CostName[]) {
      same(`${label}cost ${cost}`, (b, u) => {
        const out = b.alloc('float32', 4), dy = b.alloc('float32', 12);
        b.costRows(cost, u(cy), u(ct), 4, 3, out);
        b.costGrad(cost, u(cy), u(ct), 12, 0.25, dy);
        return [out, dy];
      });
    }
    const bx = rand(24, gen), bb = rand(3, gen);
    same(`${label}bias`, (b, u) => {
      const y = b.alloc('float32', 24), db = u(Float32Array.of(1, 1, 1));
      b.biasAdd(u(bx), u(bb), 2, 3, 4, y);
      b.biasBackward(u(bx), 2, 3, 4, db, true);
      return [y, db];
    });
    same(`${label}dropout mask`, (b) => {
      const mask = b.alloc('float32', 6);
      const draws = [0.1, 0.6, 0.29, 0.3, 0.95, 0.0];
      let i = 0;
      b.dropoutMask(mask, 6, 0.3, 2.5, () => draws[i++]!);
      return [mask];
    });
    const base: GdmStep = { lr: 0.1, scale: 0.8, bsz: 4, mu: 0.9, wdecay: 0.01, nesterov: false, gclip: null, pclip: null };
    for (const s of [base, { ...base, nesterov: true, gclip: 0.05, pclip: 0.5 }, { ...base, mu: 0 }, { ...base, lr: 0 }]) {
      const p = rand(16, gen), g = rand(16, gen, -2, 2), v = rand(16, gen, -0.1, 0.1);
      same(`${label}gdm ${JSON.stringify(s)}`, (b, u) => {
        const pb = u(p), vb = s.mu === 0 ? null : u(v);
        b.gdmUpdate(pb, s.lr === 0 ? null : u(g), vb, 16, s);
        return vb ? [pb, vb] : [pb];
      });
    }
    same(`${label}storage: write, fill, read ranges`, (b, u) => {
      const x = u(Float32Array.of(1, 2, 3, 4, 5, 6));
      b.write(x, 1, Float32Array.of(9, 8));
      b.fill(x, -1, 4, 2);
      return [x, u(b.read(x, 2, 3) as Float32Array)];
    });
    // Trap 2: buffers and outputs wider than the largest texture (1-D outputs are packed).
    const max = d.info.maxTextureSize ?? 4096;
    const wide = rand(2 * (max + 3), gen), ones = rand(2, gen);
    same(`${label}outputs wider than the ${max}-texel texture limit (trap 2)`, (b, u) => {
      const y = b.alloc('float32', wide.length), c = b.alloc('float32', wide.length);
      b.unary('tanh', u(wide), y, wide.length);
      b.gemm(true, false, 2, max + 3, 1, 1, u(ones), 0, 2, u(wide.subarray(0, max + 3)), 0, max + 3, 0, c, 0, max + 3);
      return [y, c];
    });

};
  kernelChecks('');
  // Trap 2 again, at small sizes: outputs above 1000 values packed four to a texel (as past the texture limit), mixed with unpacked ones.
  d.packLimit = 1000;
  try {
    kernelChecks('packed: ');
  } finally {
    d.packLimit = (d.info.maxTextureSize ?? 0) ** 2;
  }

  // A reduced VGG-16 training step on each backend.
  const xg = new Generator(2);
  const x = Float32Array.from({ length: 8 * 3 * 32 * 32 }, () => xg.uniform(-1, 1));
  const yl = Int32Array.from({ length: 8 }, (_, i) => i % 2);
  const textures: number[] = [];
  const train = async (name: string, steps = 1): Promise<{ loss: number; weights: Float32Array[] }> => {
    setBackend(name);
    try {
      manualSeed(7);
      const model = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16, dropoutKeep: 0.5 });
      const data = () => new ArrayIterator({ x, y: yl, nclass: 2, lshape: [3, 32, 32], bsz: 4 });
      const cost = new GeneralizedCost(CrossEntropyBinary());
      for (let s = 0; s < steps; s++) {
        await model.fit(data(), { optimizer: new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 5e-4 }), numEpochs: 1, cost });
        if (name === 'gpu') {
          // Collect the dropped buffers (Chromium started with --js-flags=--expose-gc) and let their finalizers delete the textures.
          (globalThis as { gc?: () => void }).gc?.();
          await new Promise((res) => setTimeout(res, 0));
          textures.push(d.liveTextures);
        }
      }
      const loss = model.evalCost(data(), cost);
      return { loss, weights: model.layersToOptimize.flatMap((l) => l.params().map((p) => Float32Array.from(p.value.toHost()))) };
    } finally {
      setBackend(ref.name);
    }
  };
  const r = await train(ref.name), gResult = await train('gpu');
  d.packLimit = 1000;
  let packedResult: Awaited<ReturnType<typeof train>>;
  try {
    packedResult = await train('gpu');
  } finally {
    d.packLimit = (d.info.maxTextureSize ?? 0) ** 2;
  }
  let violations = 0;
  for (const got of [gResult, packedResult]) {
    got.weights.forEach((w, i) => {
      const e = r.weights[i]!;
      for (let j = 0; j < w.length; j++) if (!(Math.abs(w[j]! - e[j]!) <= 1e-6 + 1e-4 * Math.abs(e[j]!))) violations++;
    });
  }
  textures.length = 0;
  const t0 = performance.now();
  await train('gpu', 10);
  const gpuMs = (performance.now() - t0) / 20;
  const t1 = performance.now();
  await train(ref.name, 10);
  const refMs = (performance.now() - t1) / 20; // live textures after each of 10 epochs (20 steps): flat when every replaced or dropped texture is deleted
  return {
    mode: d.mode, renderer: d.info.renderer, notAGpu: d.info.notAGpu, maxTextureSize: d.info.maxTextureSize,
    checks, kernelModes: d.kernelModes(), packedCompiles: d.packedCompiles,
    vgg: { lossGpu: gResult.loss, lossPacked: packedResult.loss, lossRef: r.loss, violations, params: gResult.weights.length },
    textures, stepMs: { gpu: gpuMs, ref: refMs },
  };
}

(globalThis as { runChecks?: typeof runChecks }).runChecks = runChecks;

/** Trap 3 on GL: buffers past 2^24 values (index arithmetic in float32 would round there). Returns what went wrong, if anything. */
export function runBigChecks(): string[] {
  const gpu = getBackend('gpu');
  const bad: string[] = [];
  const n = (1 << 24) + 8;
  const big = new Float32Array(n);
  for (let i = n - 16; i < n; i++) big[i] = i - (1 << 24);
  const b = gpu.upload(big);
  gpu.binaryScalar('add', b, 1, b, n, false);
  const tail = Array.from(gpu.read(b, 1 << 24, 8));
  if (tail.join() !== '1,2,3,4,5,6,7,8') bad.push(`binaryScalar over 2^24 + 8: tail ${tail}`);
  const M = 4097, A = gpu.upload(Float32Array.from({ length: M }, (_, i) => i)), B = gpu.upload(new Float32Array(M).fill(1));
  const C = gpu.alloc('float32', M * M);
  gpu.gemm(false, false, M, M, 1, 1, A, 0, 1, B, 0, M, 0, C, 0, M);
  const last = Array.from(gpu.read(C, (M - 1) * M + M - 3, 3));
  if (last.join() !== [M - 1, M - 1, M - 1].join()) bad.push(`gemm 4097² last row: ${last}`);
  const p = gpu.upload(big), g = gpu.upload(new Float32Array(n).fill(2));
  gpu.gdmUpdate(p, g, null, n, { lr: 0.5, scale: 1, bsz: 1, mu: 0, wdecay: 0, nesterov: false, gclip: null, pclip: null });
  const pt = Array.from(gpu.read(p, n - 4, 4));
  if (pt.join() !== [3, 4, 5, 6].join()) bad.push(`gdm over 2^24 + 8: tail ${pt}`);
  // write, fill and a gemm with a strided output (ldc > N) across the 2^24 boundary: splices per row
  const L = (1 << 24) + 64, W = gpu.alloc('float32', L);
  gpu.write(W, (1 << 24) + 2, Float32Array.of(5, 6));
  gpu.fill(W, 9, (1 << 24) - 1, 2);
  const w1 = Array.from(gpu.read(W, (1 << 24) - 2, 6));
  if (w1.join() !== '0,9,9,0,5,6') bad.push(`write/fill across 2^24: ${w1}`);
  const co = (1 << 24) - 5;
  gpu.gemm(false, false, 2, 3, 1, 1, gpu.upload(Float32Array.of(1, 2)), 0, 1, gpu.upload(Float32Array.of(1, 10, 100)), 0, 3, 0, W, co, 20);
  const g1 = [...Array.from(gpu.read(W, co, 3)), ...Array.from(gpu.read(W, co + 20, 3))];
  if (g1.join() !== '1,10,100,2,20,200') bad.push(`gemm with ldc 20 across 2^24: ${g1}`);
  return bad;
}
(globalThis as { runBigChecks?: typeof runBigChecks }).runBigChecks = runBigChecks;

export interface MemorySample { step: number; textures: number; textureMB: number; kernels: number }

/**
 * Device memory over many steps on WebGL2: a reduced VGG-16 (width 1/16, fc 16, 3×32×32,
 * batch 4, dropout on) trained for `steps` steps on the GPU backend; after each `every`
 * steps, a forced GC (--js-flags=--expose-gc) lets the finalizers of dropped buffers delete
 * their textures, then the backend's own accounting is sampled: live textures, their bytes
 * as the driver allocates them, and compiled kernels.
 */
export async function runMemoryCheck(steps = 200, every = 20): Promise<MemorySample[]> {
  const d = gpuDevice();
  const xg = new Generator(4);
  const x = Float32Array.from({ length: 8 * 3 * 32 * 32 }, () => xg.uniform(-1, 1));
  const yl = Int32Array.from({ length: 8 }, (_, i) => i % 2);
  const prev = registeredBackends().find((b) => b.name === 'ref') ?? getBackend('cpu');
  setBackend('gpu');
  const samples: MemorySample[] = [];
  const sample = async (step: number): Promise<void> => {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((res) => setTimeout(res, 0));
    samples.push({ step, textures: d.liveTextures, textureMB: d.liveTextureBytes / 2 ** 20, kernels: d.kernelCount });
  };
  try {
    manualSeed(11);
    const model = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16, dropoutKeep: 0.5 });
    const cost = new GeneralizedCost(CrossEntropyBinary());
    const opt = new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 5e-4 });
    await sample(0);
    // 2 batches an epoch; fit counts epochs from the model's epochIndex, so each call trains up to step s + every
    for (let s = 0; s < steps; s += every) {
      await model.fit(new ArrayIterator({ x, y: yl, nclass: 2, lshape: [3, 32, 32], bsz: 4 }), { optimizer: opt, numEpochs: (s + every) / 2, cost });
      await sample(s + every);
    }
  } finally {
    setBackend(prev.name);
  }
  return samples;
}
(globalThis as { runMemoryCheck?: typeof runMemoryCheck }).runMemoryCheck = runMemoryCheck;
