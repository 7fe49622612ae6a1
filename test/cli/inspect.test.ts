// `tl-scratch inspect FILE` on every weight-file format: the format name, every array as
// stored (name, shape, dtype), and where each converted array goes in the VGG-16 models.
// Expectations are derived independently from the canonical tiny VGG (tiny_vgg.json) and
// each format's layout; the in-process reader is used only to check that no array is left
// out. Bad files: exit code 1, one line on stderr naming the file, no stack trace.
//
// Every CLI run is spawned at once in beforeAll (each is ~0.4 s of CPU, mostly start-up), and
// the list is kept short (one file per layout; keras2_model.h5 is covered in test/formats).
// The Keras 1 and Keras 2 save_weights() files are here because they once failed to load.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readWeights } from '../../src/transfer/index.js';
import { FIXTURES, REF, type RefLayer } from '../formats/helpers.js';
import { cliAsync, type Result } from './run.js';

function cliP(args: string[], cwd: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = cliAsync(args, cwd);
    let stdout = '';
    let stderr = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

type Layout = 'neon_old' | 'neon_fused' | 'keras' | 'keras1' | 'keras2' | 'torch';

interface Case {
  file: string;
  format: string;
  layout: Layout;
  /** our (lab) layer name -> the layer's name in the file */
  names: Record<string, string>;
  /** whether the file's names are the lab's after the alias table */
  mapsByName: boolean;
}

const GOOD: Case[] = [
  { file: 'neon_old_py2.p', format: 'neon pickle', layout: 'neon_old', names: REF.names.neon, mapsByName: true },
  { file: 'neon_old_py3.p', format: 'neon pickle', layout: 'neon_old', names: REF.names.neon_auto, mapsByName: false },
  { file: 'neon_fused.pkl.gz', format: 'neon pickle', layout: 'neon_fused', names: REF.names.neon, mapsByName: true },
  { file: 'keras_tf_kernels.h5', format: 'Keras HDF5', layout: 'keras', names: REF.names.keras, mapsByName: true },
  // as Keras 1 and Keras 2 save_weights() write them, weightless layers (weight_names an empty
  // float64 array) included (scripts/fixtures/make_keras_fixtures.py)
  { file: 'keras1_save_weights.h5', format: 'Keras HDF5', layout: 'keras1', names: REF.names.keras, mapsByName: true },
  { file: 'keras2_save_weights.h5', format: 'Keras HDF5', layout: 'keras2', names: REF.names.keras, mapsByName: true },
  { file: 'torch_vgg.pth', format: 'PyTorch zip', layout: 'torch', names: REF.names.torch, mapsByName: true },
  { file: 'tiny_vgg.safetensors', format: 'safetensors', layout: 'torch', names: REF.names.torch, mapsByName: true },
];

interface ArrayLine {
  name: string;
  shape: number[];
  dtype: string;
}
interface MapLine extends ArrayLine {
  layer: string;
  param: string;
  where: string;
}

const shapeOf = (s: string): number[] => (s.trim() === '' ? [] : s.split(',').map((x) => Number(x.trim())));

/** Parse inspect's stdout into its header, the arrays section and the mapping section. */
function parse(stdout: string): { header: string; declared: number; arrays: ArrayLine[]; maps: MapLine[] } {
  const lines = stdout.split('\n');
  const header = lines[0]!;
  const a0 = lines.findIndex((l) => /^arrays as stored \(\d+\):$/.test(l));
  const m0 = lines.findIndex((l) => l.startsWith('layers with weights'));
  expect(a0, stdout).toBeGreaterThan(0);
  expect(m0, stdout).toBeGreaterThan(a0);
  const declared = Number(/\((\d+)\)/.exec(lines[a0]!)![1]);
  const arrays = lines.slice(a0 + 1, m0).filter((l) => l.trim() !== '').map((l) => {
    const m = /^\s+(\S+)\s+\(([\d, ]*)\)\s+(\S+)$/.exec(l);
    if (!m) throw new Error(`unparsed array line: ${JSON.stringify(l)}`);
    return { name: m[1]!, shape: shapeOf(m[2]!), dtype: m[3]! };
  });
  const maps = lines.slice(m0 + 1).filter((l) => l.trim() !== '').map((l) => {
    const m = /^\s+(\S+) (\S+)\s+\(([\d, ]*)\)\s+(\S+)\s+→ (.+)$/.exec(l);
    if (!m) throw new Error(`unparsed mapping line: ${JSON.stringify(l)}`);
    return { layer: m[1]!, param: m[2]!, name: `${m[1]} ${m[2]}`, shape: shapeOf(m[3]!), dtype: m[4]!, where: m[5]! };
  });
  return { header, declared, arrays, maps };
}

const W = (l: RefLayer) => l.params.find((p) => p.name === 'W')!.shape;
const B = (l: RefLayer) => l.params.find((p) => p.name === 'b')!.shape;

/** The weight arrays as the file stores them, in its own layout (independent of the readers). */
function storedArrays(c: Case): ArrayLine[] {
  const out: ArrayLine[] = [];
  const f32 = (name: string, shape: number[]) => out.push({ name, shape, dtype: 'float32' });
  for (const l of REF.layers) {
    const n = c.names[l.name]!;
    const w = W(l);
    const k = B(l)[0]!;
    const conv = l.kind === 'conv';
    switch (c.layout) {
      case 'neon_old':
      case 'neon_fused':
        // conv W (C·R·S, K); linear (nout, nin); bias (K, 1), fused into the conv or a separate Bias layer
        f32(`${n}.params.W`, conv ? [w[1]! * w[2]! * w[3]!, w[0]!] : w);
        f32(c.layout === 'neon_fused' && conv ? `${n}.params.weight_bias` : `${n}_bias.params.W`, [k, 1]);
        break;
      case 'keras':
        // the tf_kernels weights-only layout: conv HWIO (R, S, C, K); Dense (in, out)
        f32(`${n}/${n}_W_1:0`, conv ? [w[2]!, w[3]!, w[1]!, w[0]!] : [w[1]!, w[0]!]);
        f32(`${n}/${n}_b_1:0`, [k]);
        break;
      case 'keras1':
        // Keras 1 save_weights: the variables '<layer>_W' / '<layer>_b' directly in the layer group
        f32(`${n}/${n}_W`, conv ? [w[2]!, w[3]!, w[1]!, w[0]!] : [w[1]!, w[0]!]);
        f32(`${n}/${n}_b`, [k]);
        break;
      case 'keras2':
        // Keras 2 save_weights: the variables '<layer>/kernel:0' / '<layer>/bias:0' (a subgroup per layer)
        f32(`${n}/${n}/kernel:0`, conv ? [w[2]!, w[3]!, w[1]!, w[0]!] : [w[1]!, w[0]!]);
        f32(`${n}/${n}/bias:0`, [k]);
        break;
      case 'torch':
        f32(`${n}.weight`, w);
        f32(`${n}.bias`, [k]);
        break;
    }
  }
  return out;
}

/** The mapping lines: (file layer, param) in our layout -> target in the VGG-16 models. */
function expectedMaps(c: Case): { name: string; shape: number[]; where: RegExp }[] {
  const out: { name: string; shape: number[]; where: RegExp }[] = [];
  for (const l of REF.layers) {
    const n = c.names[l.name]!;
    const models = l.kind === 'conv' ? 'in vgg16 and vgg16_transfer' : 'in vgg16 only \\(vgg16_transfer has a new head';
    const separateBias = c.layout === 'neon_old' || (c.layout === 'neon_fused' && l.kind === 'linear');
    const biasLayer = separateBias ? `${n}_bias` : n;
    const target = (t: string, fileName: string) =>
      c.mapsByName ? new RegExp(`^${t.replace('.', '\\.')} ${models}`) : new RegExp(`^no layer named '${fileName}' in either model; --match order may pair it$`);
    out.push({ name: `${n} W`, shape: W(l), where: target(`${l.name}.W`, n) });
    out.push({ name: `${biasLayer} b`, shape: B(l), where: target(`${l.name}_bias.b`, biasLayer) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Bad files (written to a temporary folder): truncated copies of each format, unknown bytes,
// an empty file, a missing one.

const work = mkdtempSync(join(tmpdir(), 'tl-inspect-'));
function truncated(name: string): string {
  const bytes = readFileSync(join(FIXTURES, name));
  const out = `trunc_${name}`;
  writeFileSync(join(work, out), bytes.subarray(0, Math.floor(bytes.length / 2)));
  return out;
}

const BAD: { file: string; why: RegExp; setup?: () => string }[] = [
  { file: 'bad_random.bin', why: /unknown format/ },
  { file: 'trunc_neon_old_py2.p', why: /truncated/, setup: () => truncated('neon_old_py2.p') },
  { file: 'trunc_torch_vgg.pth', why: /truncated/, setup: () => truncated('torch_vgg.pth') },
  { file: 'trunc_tiny_vgg.safetensors', why: /truncated/, setup: () => truncated('tiny_vgg.safetensors') },
  { file: 'no_such_file.pth', why: /no such file/ },
];
// A truncated HDF5 file: caught from its superblock before the HDF5 library (which would
// print its own error stack) opens it.
const TRUNC_H5 = 'trunc_keras_tf_kernels.h5';

const results = new Map<string, Result>();

beforeAll(async () => {
  for (const b of BAD) b.setup?.();
  truncated('keras_tf_kernels.h5');
  const runs: [string, Promise<Result>][] = [
    ...GOOD.map((c) => [c.file, cliP(['inspect', c.file], FIXTURES)] as [string, Promise<Result>]),
    ['torch_misc.pth', cliP(['inspect', 'torch_misc.pth'], FIXTURES)],
    ...BAD.map((b) => [b.file, cliP(['inspect', b.file], b.setup || b.file.startsWith('no_such') ? work : FIXTURES)] as [string, Promise<Result>]),
    [TRUNC_H5, cliP(['inspect', TRUNC_H5], work)],
  ];
  for (const [k, p] of runs) results.set(k, await p);
}, 60_000);

describe('tl-scratch inspect', () => {
  for (const c of GOOD) {
    it(`${c.file}: format ${c.format}, every array with shape and dtype, and where it goes`, async () => {
      const r = results.get(c.file)!;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = parse(r.stdout);
      expect(out.header).toBe(`${c.file}: ${c.format}`);
      // every array as stored: the weights in the file's own layout …
      for (const a of storedArrays(c)) expect(out.arrays, a.name).toContainEqual(a);
      // … and everything else the file holds (RNG state, optimizer states), none left out
      expect(out.arrays).toHaveLength(out.declared);
      const wf = await readWeights(join(FIXTURES, c.file));
      expect(out.arrays).toEqual(wf.arrays.map((a) => ({ name: a.name, shape: a.shape, dtype: a.dtype })));
      if (c.layout.startsWith('neon')) expect(out.arrays.some((a) => a.name.startsWith('backend.rng_state'))).toBe(true);
      if (c.layout === 'neon_fused') expect(out.arrays).toContainEqual({ name: 'conv1_1.states[0][0]', shape: [27, 4], dtype: 'float32' });
      // where each converted array goes (our layout: conv [K, C, R, S], dense [out, in], bias [K])
      const exp = expectedMaps(c);
      expect(out.maps).toHaveLength(exp.length);
      for (const e of exp) {
        const m = out.maps.find((x) => x.name === e.name);
        expect(m, `mapping line for '${e.name}'`).toBeDefined();
        expect(m!.shape, e.name).toEqual(e.shape);
        expect(m!.dtype).toBe('float32');
        expect(m!.where, e.name).toMatch(e.where);
      }
      // only the layers with weights hold arrays (no '' weight of input_1, block1_pool, flatten, dropout_1, …)
      if (c.layout.startsWith('keras')) expect(out.arrays).toHaveLength(2 * REF.layers.length);
      if (c.layout.startsWith('keras')) expect(r.stdout).toContain("'fc1': input rows permuted from Keras channels-last Flatten order (H, W, C) = (3, 3, 16)");
      if (c.layout.startsWith('neon')) expect(r.stdout).toMatch(/note: .*BGR/);
    });
  }

  it('torch_misc.pth: other dtypes, scalars, and arrays that map to nothing (with the reason)', () => {
    const r = results.get('torch_misc.pth')!;
    expect(r.code).toBe(0);
    const out = parse(r.stdout);
    expect(out.header).toBe('torch_misc.pth: PyTorch zip');
    expect(out.arrays).toHaveLength(9);
    expect(out.arrays).toContainEqual({ name: 'transposed.weight', shape: [6, 4], dtype: 'float32' });
    expect(out.arrays).toContainEqual({ name: 'half.weight', shape: [2, 3], dtype: 'float16' });
    expect(out.arrays).toContainEqual({ name: 'bf16.weight', shape: [3], dtype: 'bfloat16' });
    expect(out.arrays).toContainEqual({ name: 'double.weight', shape: [2], dtype: 'float64' });
    expect(out.arrays).toContainEqual({ name: 'bn.num_batches_tracked', shape: [], dtype: 'int64' });
    expect(out.arrays).toContainEqual({ name: 'scalar.weight', shape: [], dtype: 'float32' });
    expect(out.maps.find((m) => m.name === 'bn num_batches_tracked')!.where).toMatch(/not a weight or bias/);
    expect(out.maps.find((m) => m.name === 'half W')!.where).toMatch(/no layer named 'half' in either model/);
  });

  for (const b of BAD) {
    it(`${b.file}: exit code 1, one line on stderr naming the file, no stack trace`, () => {
      const r = results.get(b.file)!;
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^tl-scratch: /);
      expect(lines[0]).toContain(b.file);
      expect(lines[0]).toMatch(b.why);
      expect(r.stderr).not.toMatch(/^\s+at |internal error|Error:/m);
    });
  }

  it(`${TRUNC_H5}: exit code 1 and a message naming the file`, () => {
    const r = results.get(TRUNC_H5)!;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const ours = r.stderr.split('\n').filter((l) => l.startsWith('tl-scratch: '));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toContain(TRUNC_H5);
    expect(ours[0]).toMatch(/truncated/);
    expect(r.stderr).not.toMatch(/^\s+at |internal error/m);
  });

  it(`${TRUNC_H5}: only that one line on stderr`, () => {
    expect(results.get(TRUNC_H5)!.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
