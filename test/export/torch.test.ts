// PyTorch loads our safetensors export into a torchvision-layout VGG-16 and gets our
// outputs. test/fixtures/export/ is written by scripts/fixtures/make_export_reference.py
// (CI does not run it): the reduced VGG-16 transfer model (widthMult 1/16, fcSize 16,
// 3×32×32, dropout keep 0.5) exported by tl-scratch, and PyTorch 1.13's outputs after
// load_state_dict(strict=True) into torchvision's module tree (built by hand: there is no
// torchvision package), in eval mode, on 4 seeded random inputs; and the outputs of the
// README's own PyTorch commands (tl_vgg16.py and the load block) run on the same file.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateVgg16TransferModel, importMatchingLayers, readWeights, safetensorsBytes } from '../../src/index.js';
import { TORCHVISION_VGG16_CONV_INDICES } from '../../src/export/safetensors.js';
import { maxAbsDiff, ours, spread } from './helpers.js';

const dir = (name: string) => fileURLToPath(new URL(`../fixtures/export/${name}`, import.meta.url));
const FILE = dir('vgg16-w1_16-fc16.safetensors');
const ref = JSON.parse(readFileSync(dir('torch_outputs.json'), 'utf8')) as {
  md5: string; input_shape: number[]; input_f32le_base64: string; probs: number[][]; logits: number[][];
  readme: { blocks: string[]; sha256: string; probs: number[][] };
};

/** The ```python block after `<!-- readme-program: NAME -->` in README.md (as the fixture script reads it). */
function readmePython(name: string): string {
  const readme = readFileSync(join(resolve(__dirname, '../..'), 'README.md'), 'utf8');
  const at = readme.indexOf(`<!-- readme-program: ${name} -->`);
  if (at < 0) throw new Error(`README.md has no '<!-- readme-program: ${name} -->'`);
  const m = /```python\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!m) throw new Error(`README.md: no python block after '${name}'`);
  return m[1]!;
}
const bytes = readFileSync(FILE);
const inBytes = Buffer.from(ref.input_f32le_base64, 'base64');
const x = new Float32Array(inBytes.buffer.slice(inBytes.byteOffset, inBytes.byteOffset + inBytes.byteLength));
const N = ref.input_shape[0]!;

async function load() {
  const model = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
  model.initialize([3, 32, 32]);
  const report = importMatchingLayers(await readWeights(FILE), model, { log: () => {} });
  return { model, report };
}

describe('safetensors export → PyTorch (torchvision layout)', () => {
  it('the fixture is the file PyTorch loaded', () => {
    expect(createHash('md5').update(bytes).digest('hex')).toBe(ref.md5);
  });

  it("holds exactly torchvision's VGG-16 keys", () => {
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
    const keys = Object.keys(header).filter((k) => k !== '__metadata__').sort();
    const want = [...TORCHVISION_VGG16_CONV_INDICES.map((i) => `features.${i}`), 'classifier.0', 'classifier.3', 'classifier.6']
      .flatMap((p) => [`${p}.weight`, `${p}.bias`]).sort();
    expect(keys).toEqual(want);
  });

  it("our model reading the file gives PyTorch's outputs (within 1e-5), and re-exporting gives the same bytes", async () => {
    const { model, report } = await load();
    expect(report.notInSource).toEqual([]);
    expect(report.imported).toHaveLength(32);
    const y = ours(model, x, N);
    const probs = ref.probs.flat();
    expect(spread(probs, 2)).toBeGreaterThan(0.05); // the outputs depend on the input
    expect(maxAbsDiff(y, probs)).toBeLessThan(1e-5);
    expect(Buffer.from(safetensorsBytes(model)).equals(bytes)).toBe(true);
  });

  it("the README's PyTorch commands (tl_vgg16.py, then the load block) gave our outputs on this file", async () => {
    // The blocks in README.md are the ones the fixture script ran: edit them, rerun the script.
    expect(ref.readme.blocks).toEqual(['tl_vgg16.py', 'torch-load']);
    const blocks = ref.readme.blocks.map(readmePython);
    expect(createHash('sha256').update(blocks.join('\n'), 'utf8').digest('hex'), 'README.md changed: rerun scripts/fixtures/make_export_reference.py').toBe(ref.readme.sha256);
    expect(blocks[0]).toContain('def load_vgg16(path):');
    expect(blocks[1]).toContain('load_vgg16("model.safetensors")');
    const { model } = await load();
    expect(maxAbsDiff(ours(model, x, N), ref.readme.probs.flat())).toBeLessThan(1e-5);
  });

  it('dropout is folded into the next dense layer: classifier.3/6 weights are keep × ours, biases as they are', async () => {
    const { model } = await load();
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
    const tensorOf = (key: string) => {
      const [b, e] = header[key]!.data_offsets;
      const buf = bytes.subarray(8 + n + b, 8 + n + e);
      return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    };
    const param = (layer: string, p: string) => model.layer(layer)!.params().find((q) => q.name === p)!.value.toHost();
    expect(Array.from(tensorOf('classifier.3.weight'))).toEqual(Array.from(param('fc7_new', 'W'), (v) => Math.fround(v * 0.5)));
    expect(Array.from(tensorOf('classifier.6.weight'))).toEqual(Array.from(param('cls_imdb_wiki_face', 'W'), (v) => Math.fround(v * 0.5)));
    expect(Array.from(tensorOf('classifier.0.weight'))).toEqual(Array.from(param('fc6_new', 'W')));
    expect(Array.from(tensorOf('classifier.3.bias'))).toEqual(Array.from(param('fc7_new_bias', 'b')));
  });
});
