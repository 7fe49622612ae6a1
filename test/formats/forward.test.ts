// The weight-import acceptance test: after importMatchingLayers(readWeights(file), model),
// our forward outputs on a fixed batch equal the outputs the file's own framework computed
// (scripts/fixtures/make_format_fixtures.py, make_forward) to 1e-5 relative:
//   neon .p     a NumPy re-implementation of neon's inference fprop from the (C·R·S, K) matrices,
//               with neon's Dropout (keep 0.5, x·keep at inference) and the Softmax head;
//   Keras .h5   the same network in PyTorch after the documented conversion (checked there
//               against a channels-last forward), logits; the fc1 permutation matters here
//               because the flatten input is 16×3×3;
//   .pth / .safetensors   PyTorch in eval mode, logits.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Affine, Constant, Conv, Dropout, Pooling, Rectlin, Softmax, type Layer } from '../../src/layers/index.js';
import { Model } from '../../src/models/model.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { tensor } from '../../src/autograd/ops/create.js';
import { importMatchingLayers, readWeights, type ImportOptions } from '../../src/transfer/index.js';
import type { ReadOptions } from '../../src/formats/types.js';
import { fx, REF } from './helpers.js';

interface Values {
  shape: number[];
  values: number[];
}
interface Expected {
  input: { file: string; shape: number[]; dtype: string };
  formats: Record<string, { source: string; head: 'softmax' | 'logits'; dropout_keep?: number; output: Values; logits?: Values }>;
}

const EXPECTED: Expected = JSON.parse(readFileSync(fx('forward_expected.json'), 'utf8'));
const inBytes = readFileSync(fx(EXPECTED.input.file));
const INPUT = new Float32Array(inBytes.buffer.slice(inBytes.byteOffset, inBytes.byteOffset + inBytes.byteLength));
const TOL = 1e-5;
/** 2×2 max pooling after the last conv of each block (as the script's POOL_AFTER). */
const POOL_AFTER = new Set(['conv1_2', 'conv2_2', 'conv3_3']);

/** The fixture network from our layers: names conv1_1 … conv3_3, fc6, fc7, fc8 (the lab's). */
function tinyVgg(neonHead: boolean): Model {
  const layers: Layer[] = [];
  for (const l of REF.layers.filter((x) => x.kind === 'conv')) {
    const K = l.params.find((p) => p.name === 'W')!.shape[0]!;
    layers.push(...Conv([3, 3, K], { padding: 1, bias: new Constant(0), activation: Rectlin(), name: l.name }));
    if (POOL_AFTER.has(l.name)) layers.push(new Pooling(2, { strides: 2, name: `pool${l.name[4]}` }));
  }
  const fcs = REF.layers.filter((l) => l.kind === 'linear');
  fcs.forEach((l, j) => {
    const last = j === fcs.length - 1;
    const nout = l.params.find((p) => p.name === 'W')!.shape[0]!;
    layers.push(...Affine(nout, { bias: new Constant(0), activation: last ? (neonHead ? Softmax() : undefined) : Rectlin(), name: l.name }));
    if (!last && neonHead) layers.push(new Dropout({ keep: 0.5, mode: 'neon', name: `${l.name}_dropout` }));
  });
  const m = new Model(layers);
  m.initialize(REF.input);
  return m;
}

function relErr(ours: ArrayLike<number>, ref: number[]): number {
  expect(ours.length).toBe(ref.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (ours[i]! - ref[i]!) ** 2;
    den += ref[i]! ** 2;
  }
  return Math.sqrt(num) / Math.sqrt(den);
}

/** Outputs of every layer but the last (the logits before the Softmax activation). */
function logitsOf(m: Model, x: Tensor): Float32Array {
  let y = x;
  for (const l of m.layers.slice(0, -1)) y = l.fprop(y, true);
  return y.toHost() as Float32Array;
}

const CASES: { file: string; match?: ImportOptions['match'] }[] = [
  { file: 'neon_old_py2.p' },
  { file: 'neon_old_py3.p', match: 'order' }, // neon auto names (Convolution_0, …): paired by order
  { file: 'neon_fused.p' },
  { file: 'neon_fused.pkl.gz' },
  { file: 'neon_fused_proto0.p' },
  { file: 'keras_tf_kernels.h5' },
  { file: 'keras2_model.h5' },
  { file: 'torch_vgg.pth' },
  { file: 'tiny_vgg.safetensors' },
];

/** Read, import into a fresh model, run inference; returns the model's output, logits and the model. */
async function run(file: string, match: ImportOptions['match'], read: ReadOptions = {}) {
  const exp = EXPECTED.formats[file]!;
  const neon = exp.head === 'softmax';
  const model = tinyVgg(neon);
  const wf = await readWeights(fx(file), read);
  const report = importMatchingLayers(wf, model, { match, log: () => {} });
  const x = tensor(INPUT, EXPECTED.input.shape);
  const y = model.fprop(x, true);
  return { exp, model, report, y, logits: neon ? logitsOf(model, x) : (y.toHost() as Float32Array) };
}

describe('forward outputs after import equal the source framework’s', () => {
  it('the fixtures hold a 2×3×24×24 batch and every format’s reference', () => {
    expect(EXPECTED.input.shape).toEqual([2, ...REF.input]);
    expect(INPUT.length).toBe(2 * 3 * 24 * 24);
    expect(REF.flatten).toEqual([16, 3, 3]); // spatial size > 1 at the flatten, so fc1's permutation shows
    expect(Object.keys(EXPECTED.formats).sort()).toEqual(CASES.map((c) => c.file).sort());
  });

  for (const { file, match } of CASES) {
    it(`${file}${match ? ` (match: '${match}')` : ''}`, async () => {
      const { exp, model, report, y, logits } = await run(file, match);
      // every parameter layer of the model was imported, nothing in the file was left over
      expect(report.imported).toEqual(model.layersToOptimize.map((l) => l.name));
      expect(report.notInSource).toEqual([]);
      expect(report.shapeMismatch).toEqual([]);
      expect(report.unusedInSource).toEqual([]);
      expect(report.imported).toHaveLength(2 * REF.layers.length);
      expect(y.shape).toEqual(exp.output.shape);
      const e = relErr(y.toHost(), exp.output.values);
      const el = exp.logits ? relErr(logits, exp.logits.values) : e;
      console.log(`${file}: ‖ours−ref‖/‖ref‖ = ${e.toExponential(2)} (${exp.head})${exp.logits ? `, logits ${el.toExponential(2)}` : ''}`);
      expect(e).toBeLessThanOrEqual(TOL);
      expect(el).toBeLessThanOrEqual(TOL);
      // the reference is not trivially matched: the outputs differ between the two examples
      const n = exp.output.shape[1]!;
      expect(relErr(logits.subarray(0, n), Array.from(logits.subarray(n)))).toBeGreaterThan(0.01);
    });
  }

  it('Keras without the fc1 input permutation (flatten taken as 1×1×144) does not match: the check sees it', async () => {
    const { exp, logits } = await run('keras_tf_kernels.h5', 'name', { kerasFlattenShape: [1, 1, 144] });
    const e = relErr(logits, exp.output.values);
    console.log(`keras_tf_kernels.h5 without the fc1 permutation: ‖ours−ref‖/‖ref‖ = ${e.toExponential(2)}`);
    expect(e).toBeGreaterThan(1e-2);
  });

  it('neon’s head: Softmax after fc8 and Dropout scaling by keep at inference are part of the reference', async () => {
    const exp = EXPECTED.formats['neon_fused.p']!;
    expect(exp.head).toBe('softmax');
    expect(exp.dropout_keep).toBe(0.5);
    const torch = EXPECTED.formats['torch_vgg.pth']!;
    // without neon's keep scaling the logits would be torch's: they are not
    expect(relErr(exp.logits!.values, torch.output.values)).toBeGreaterThan(1e-3);
    for (let i = 0; i < 2; i++) {
      const row = exp.output.values.slice(i * 10, i * 10 + 10);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });
});
