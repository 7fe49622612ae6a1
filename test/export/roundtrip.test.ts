// Round trips: a model exported as safetensors or ONNX and read back (readWeights, the path
// of --model_file and --source_model) into a freshly built model gives identical outputs
// (bit for bit: every weight comes back exactly).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Activation, Bias, Convolution, exportModel, generateVgg16, generateVgg16TransferModel, importMatchingLayers, Linear,
  manualSeed, Model, modelFromCheckpoint, Pooling, readWeights, Rectlin, Softmax, safetensorsBytes, type ExportFormat,
} from '../../src/index.js';
import { ours, randomInput, spreadWeights } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'tl-roundtrip-'));

async function roundTrip(build: () => Model, inShape: number[], format: ExportFormat, name: string): Promise<void> {
  manualSeed(11);
  const a = build();
  a.initialize(inShape);
  spreadWeights(a);
  const path = join(work, `${name}.${format}`);
  exportModel(a, path, format);
  manualSeed(99); // a different initialization: everything must come from the file
  const b = build();
  b.initialize(inShape);
  const report = importMatchingLayers(await readWeights(path), b, { log: () => {} });
  expect(report.notInSource).toEqual([]);
  expect(report.unusedInSource).toEqual([]);
  const x = randomInput(3, inShape);
  expect(Array.from(ours(b, x, 3))).toEqual(Array.from(ours(a, x, 3)));
  for (const l of a.layers) {
    for (const p of l.params()) expect(Array.from(b.layer(l.name)!.params().find((q) => q.name === p.name)!.value.toHost())).toEqual(Array.from(p.value.toHost()));
  }
}

const tinyTransfer = () => generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
const tinyOriginal = () => generateVgg16({ widthMult: 1 / 16, fcSize: 16, nclass: 5 });
const notVgg = () => new Model([
  new Convolution([3, 3, 4], { padding: 1, name: 'conv' }), new Bias({ name: 'conv_bias' }), new Activation(Rectlin(), { name: 'relu' }),
  new Pooling(2, { name: 'pool' }), new Bias({ name: 'lone_bias' }), new Linear(3, { name: 'fc' }), new Activation(Softmax(), { name: 'sm' }),
]);

describe('export → import round trip gives identical outputs', () => {
  for (const format of ['safetensors', 'onnx'] as const) {
    it(`${format}: the VGG-16 transfer model (torchvision names, dropout folded, for safetensors)`, () => roundTrip(tinyTransfer, [3, 32, 32], format, 'transfer'));
    it(`${format}: the original VGG-16 head (fc6/fc7/fc8), 1 channel`, () => roundTrip(tinyOriginal, [1, 32, 32], format, 'original'));
    it(`${format}: a model that is not a VGG-16 (tl-scratch's names, a lone Bias)`, () => roundTrip(notVgg, [3, 8, 8], format, 'other'));
  }

  it('safetensors of a non-VGG model use our layer names', () => {
    manualSeed(1);
    const m = notVgg();
    m.initialize([3, 8, 8]);
    const bytes = Buffer.from(safetensorsBytes(m));
    const n = Number(bytes.readBigUInt64LE(0));
    const keys = Object.keys(JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'))).filter((k) => k !== '__metadata__');
    expect(keys).toEqual(['conv.weight', 'conv.bias', 'lone_bias.bias', 'fc.weight']);
  });

  it('a checkpoint rebuilt alone (modelFromCheckpoint) is the model that was saved', async () => {
    manualSeed(5);
    const a = tinyTransfer();
    a.initialize([3, 32, 32]);
    spreadWeights(a);
    const path = join(work, 'ckpt.h5');
    await a.save(path);
    const b = await modelFromCheckpoint(path);
    expect(b.layers.map((l) => [l.name, l.className])).toEqual(a.layers.map((l) => [l.name, l.className]));
    expect(b.describeLayers().map((d) => d.config)).toEqual(a.describeLayers().map((d) => d.config));
    const x = randomInput(2, [3, 32, 32]);
    expect(Array.from(ours(b, x, 2))).toEqual(Array.from(ours(a, x, 2)));
  });

  it('a safetensors file with damaged tl-scratch metadata is refused with one clear line', async () => {
    manualSeed(1);
    const m = notVgg();
    m.initialize([3, 8, 8]);
    const bytes = Buffer.from(safetensorsBytes(m));
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as { __metadata__: Record<string, string> };
    header.__metadata__['tl_scratch.names'] = '{"conv.weight": ["conv", "W"]}';
    let json = JSON.stringify(header);
    json += ' '.repeat(Math.max(0, n - json.length));
    const bad = Buffer.concat([bytes.subarray(0, 8), Buffer.from(json.slice(0, n)), bytes.subarray(8 + n)]);
    expect(json.length).toBe(n); // the edit made the header shorter, padded back to n
    const path = join(work, 'bad.safetensors');
    writeFileSync(path, bad);
    await expect(readWeights(path)).rejects.toThrow(/has no \[layer, parameter\] for tensor 'conv.bias'/);
  });
});
