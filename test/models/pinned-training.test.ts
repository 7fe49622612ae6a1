// Pins what a short training run computes, so that restructuring the engine cannot move
// results unnoticed. A reduced VGG-16 (width 1/32, fc 16, 3×32×32: Winograd-eligible
// convolutions, image groups on the threads, max pooling, dropout, softmax and the
// momentum-SGD update all run) trains 3 epochs on a fixed set:
//   - on `cpu` (the default backend) the weights must come out bit for bit as pinned, with
//     Winograd F(2×2, 3×3) on every layer (setWinogradTile(2)) and with the default per-layer
//     choice of F(4×4, 3×3) (setWinogradTile('auto'): F(4×4, 3×3) on the 32² and 16² layers),
//     a digest of its own;
//   - that F(4×4, 3×3) run stays within 1e-4 of the `ref` run (absolute, on every weight);
//   - on `ref` they must agree with the weights the reference backend computed before the
//     restructure (test/fixtures/pinned/ref-weights.bin, written by this file with
//     TL_WRITE_PINNED=1) to 1e-5 of each parameter's largest magnitude: the textbook
//     kernels sum in another order than the old blocked gemm and Winograd did.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArrayIterator } from '../../src/data/iterator.js';
import { generateVgg16TransferModel } from '../../src/models/vgg16.js';
import { GeneralizedCost, CrossEntropyBinary } from '../../src/models/cost.js';
import { GradientDescentMomentum } from '../../src/optim/index.js';
import { Generator, manualSeed } from '../../src/index.js';
import { backend, setBackend } from '../../src/kernels/index.js';
import { fastCpu } from '../../src/kernels/cpu/simd/index.js';
import { simdModule } from '../../src/kernels/cpu/simd/simd.js';
import { setWinogradTile } from '../../src/kernels/cpu/simd/conv.js';

const FIXTURE = join(__dirname, '../fixtures/pinned/ref-weights.bin');

/**
 * SHA-256 of the cpu run's weights with F(2×2, 3×3) (float32 bytes, layer order). Pinned for the fast
 * backend with relaxed SIMD (Node 20 and later): without it the gemm rounds each
 * multiply-add twice, and results differ in the last bits.
 */
const CPU_DIGEST = '7985b9b1e30f5bf75547409b4f589cbf3c1b4a0e83205929d71743700af072fe';
/** The same run with Winograd's tile chosen per layer (setWinogradTile('auto'), the default: F(4×4, 3×3) where Q ≥ 16). */
const CPU_DIGEST_AUTO = '489f93860b8adacbb3be520cb766f76860700071b0159e571b08c54ef1687dc9';
const relaxed = simdModule()?.relaxed === true && fastCpu() !== null;

function data(n: number) {
  const g = new Generator(11);
  const F = 3 * 32 * 32;
  const x = new Float32Array(n * F);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let j = 0; j < F; j++) x[i * F + j] = g.uniform(-1, 1) + (y[i] === 1 && j % 1024 < 512 ? 0.5 : 0);
  }
  return new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 8 });
}

/** The weights of every parameter, in layer order, after 3 epochs on `backend`. */
async function train(name: string): Promise<{ name: string; values: Float32Array }[]> {
  const prev = backend().name;
  setBackend(name);
  try {
    manualSeed(7);
    const m = generateVgg16TransferModel({ widthMult: 1 / 32, fcSize: 16, dropoutKeep: 0.5 });
    await m.fit(data(24), {
      optimizer: new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 0.0005 }),
      numEpochs: 3,
      cost: new GeneralizedCost(CrossEntropyBinary()),
    });
    return m.layersToOptimize.flatMap((l) => l.params().map((p) => ({ name: `${l.name}.${p.name}`, values: Float32Array.from(p.value.data) })));
  } finally {
    setBackend(prev);
  }
}

/** Largest |a − b| over a parameter's largest |b|, the worst parameter. */
function worstRelative(a: { name: string; values: Float32Array }[], b: { values: Float32Array }[]): { worst: number; where: string } {
  let worst = 0, where = '';
  a.forEach((w, j) => {
    let scale = 0, diff = 0;
    const r = b[j]!.values;
    for (let i = 0; i < r.length; i++) {
      scale = Math.max(scale, Math.abs(r[i]!));
      diff = Math.max(diff, Math.abs(w.values[i]! - r[i]!));
    }
    const rel = scale > 0 ? diff / scale : diff;
    if (rel > worst) { worst = rel; where = w.name; }
  });
  return { worst, where };
}

function digest(ws: { values: Float32Array }[]): string {
  const h = createHash('sha256');
  for (const w of ws) h.update(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength));
  return h.digest('hex');
}

describe('pinned training results', () => {
  it.runIf(relaxed)('a reduced VGG-16 trained 3 epochs on cpu with F(2×2, 3×3) gives the pinned weights bit for bit', async () => {
    const prev = setWinogradTile(2);
    let ws;
    try {
      ws = await train('cpu');
    } finally {
      setWinogradTile(prev);
    }
    if (process.env.TL_WRITE_PINNED) console.log(`cpu digest: ${digest(ws)}`);
    expect(digest(ws)).toBe(CPU_DIGEST);
  }, 120_000);

  it.runIf(relaxed)('with F(4×4, 3×3) chosen per layer, the cpu run gives its own pinned weights bit for bit', async () => {
    const prev = setWinogradTile('auto');
    try {
      const d = digest(await train('cpu'));
      if (process.env.TL_WRITE_PINNED) console.log(`cpu digest (per-layer tile): ${d}`);
      expect(d).toBe(CPU_DIGEST_AUTO);
    } finally {
      setWinogradTile(prev);
    }
  }, 120_000);

  it('with F(4×4, 3×3) chosen per layer, the cpu run stays within 1e-4 of the ref run on every weight', async () => {
    const r = await train('ref');
    const prev = setWinogradTile('auto');
    let ws;
    try {
      ws = await train('cpu');
    } finally {
      setWinogradTile(prev);
    }
    let worst = 0, where = '';
    ws.forEach((w, j) => w.values.forEach((v, i) => {
      const d = Math.abs(v - r[j]!.values[i]!);
      if (d > worst) { worst = d; where = w.name; }
    }));
    if (process.env.TL_SHOW_PINNED) console.log(`largest difference cpu (F(4,3) per layer) vs ref: ${worst.toExponential(2)} (${where}); relative to each parameter's scale: ${worstRelative(ws, r).worst.toExponential(2)} (${worstRelative(ws, r).where})`);
    expect(worst, `largest difference at ${where}`).toBeLessThanOrEqual(1e-4);
  }, 120_000);

  it('the same run on ref agrees with the pre-restructure reference within 1e-5 of each parameter\'s scale', async () => {
    const ws = await train('ref');
    if (process.env.TL_WRITE_PINNED) {
      const all = new Float32Array(ws.reduce((n, w) => n + w.values.length, 0));
      let o = 0;
      for (const w of ws) { all.set(w.values, o); o += w.values.length; }
      writeFileSync(FIXTURE, new Uint8Array(all.buffer));
    }
    expect(existsSync(FIXTURE)).toBe(true);
    const buf = readFileSync(FIXTURE);
    const old = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    expect(old.length).toBe(ws.reduce((n, w) => n + w.values.length, 0));
    let o = 0, worst = 0, where = '';
    for (const w of ws) {
      let scale = 0, diff = 0;
      for (let i = 0; i < w.values.length; i++) {
        scale = Math.max(scale, Math.abs(old[o + i]!));
        diff = Math.max(diff, Math.abs(w.values[i]! - old[o + i]!));
      }
      const rel = scale > 0 ? diff / scale : diff;
      if (rel > worst) { worst = rel; where = w.name; }
      o += w.values.length;
    }
    if (process.env.TL_WRITE_PINNED || process.env.TL_SHOW_PINNED) console.log(`largest relative difference from the old reference: ${worst.toExponential(2)} (${where})`);
    expect(worst, `largest difference at ${where}`).toBeLessThanOrEqual(1e-5);
  }, 120_000);
});
