import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importMatchingLayers, labName, VGG16_CONV_NAMES } from '../../src/transfer/index.js';
import { generateVgg16, generateVgg16TransferModel } from '../../src/models/vgg16.js';
import { readCheckpointWeights } from '../../src/models/checkpoint.js';
import type { SourceLayer } from '../../src/formats/types.js';
import type { Model } from '../../src/models/model.js';
import { manualSeed } from '../../src/index.js';

const tinyTransfer = () => {
  const m = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
  m.initialize([3, 32, 32]);
  return m;
};
const tinySource = () => {
  const m = generateVgg16({ widthMult: 1 / 16, fcSize: 16, nclass: 10 });
  m.initialize([3, 32, 32]);
  return m;
};
const paramsOf = (m: Model, name: string) => m.layer(name)!.params().map((p) => Array.from(p.value.data));

/** The source model's layers as a file with the given naming and bias layout. */
function asSource(m: Model, naming: (labName: string, i: number) => string, fusedBias: boolean): SourceLayer[] {
  const out: SourceLayer[] = [];
  let convIndex = 0;
  for (const l of m.layersToOptimize) {
    const p = l.params()[0]!;
    const arr = { name: p.name, shape: [...p.value.shape], dtype: 'float32', data: Float32Array.from(p.value.data) };
    if (l.className === 'Bias') {
      if (fusedBias) out[out.length - 1]!.params.push({ ...arr, name: 'b' });
      else out.push({ name: `${out[out.length - 1]!.name}_bias`, kind: 'bias', params: [arr] });
    } else {
      out.push({ name: naming(l.name, l.className === 'Convolution' ? convIndex++ : -1), kind: l.className === 'Convolution' ? 'conv' : 'linear', params: [arr] });
    }
  }
  return out;
}

describe('importMatchingLayers', () => {
  it("the lab's flow: a source VGG-16 (fc6/fc7/fc8) into the transfer model copies exactly the 13 convs and their biases", async () => {
    manualSeed(1);
    const src = tinySource();
    const dir = mkdtempSync(join(tmpdir(), 'tl-import-'));
    await src.save(join(dir, 'source.h5'));
    const file = await readCheckpointWeights(join(dir, 'source.h5'));
    manualSeed(2);
    const dst = tinyTransfer();
    const lines: string[] = [];
    const fc6Before = paramsOf(dst, 'fc6_new');
    const r = importMatchingLayers(file, dst, { log: (l) => lines.push(l) });
    expect(r.imported).toEqual(VGG16_CONV_NAMES.flatMap((n) => [n, `${n}_bias`]));
    expect(r.notInSource).toEqual(['fc6_new', 'fc6_new_bias', 'fc7_new', 'fc7_new_bias', 'cls_imdb_wiki_face', 'cls_imdb_wiki_face_bias']);
    expect(r.unusedInSource).toEqual(['fc6', 'fc6_bias', 'fc7', 'fc7_bias', 'fc8', 'fc8_bias']);
    for (const n of VGG16_CONV_NAMES) {
      expect(paramsOf(dst, n)).toEqual(paramsOf(src, n));
      expect(paramsOf(dst, `${n}_bias`)).toEqual(paramsOf(src, `${n}_bias`));
    }
    expect(paramsOf(dst, 'fc6_new')).toEqual(fc6Before);
    expect(lines).toContain("Successfully copied layer # 3 'conv1_2'");
    expect(lines).toContain("New layer # 44 'fc6_new' (not in the source model): initialized");
    expect(lines.filter((l) => l.startsWith('Successfully')).length).toBe(26);
  });

  it('maps Keras and torchvision names through the alias table, with biases stored in the layer', () => {
    expect(labName('block3_conv2')).toBe('conv3_2');
    expect(labName('features.28')).toBe('conv5_3');
    expect(labName('classifier.3')).toBe('fc7');
    expect(labName('predictions')).toBe('fc8');
    manualSeed(3);
    const src = tinySource();
    const torchIdx = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
    const fcNames = ['classifier.0', 'classifier.3', 'classifier.6'];
    let fc = 0;
    const torchLike = asSource(src, (_n, i) => (i >= 0 ? `features.${torchIdx[i]}` : fcNames[fc++]!), true);
    fc = 0;
    const kerasLike = asSource(src, (n, i) => (i >= 0 ? n.replace(/conv(\d)_(\d)/, 'block$1_conv$2') : ['fc1', 'fc2', 'predictions'][fc++]!), true);
    for (const layers of [torchLike, kerasLike]) {
      const dst = generateVgg16({ widthMult: 1 / 16, fcSize: 16, nclass: 10 });
      dst.initialize([3, 32, 32]);
      const r = importMatchingLayers(layers, dst, { log: () => {} });
      expect(r.notInSource).toEqual([]);
      expect(r.imported.length).toBe(32);
      for (const l of src.layersToOptimize) expect(paramsOf(dst, l.name)).toEqual(paramsOf(src, l.name));
    }
  });

  it('matches by order when names differ, and refuses to pair layers of different kinds', () => {
    manualSeed(4);
    const src = tinySource();
    let k = 0;
    const renamed = asSource(src, () => `layer${k++}`, false);
    const dst = generateVgg16({ widthMult: 1 / 16, fcSize: 16, nclass: 10 });
    dst.initialize([3, 32, 32]);
    expect(importMatchingLayers(renamed, dst, { log: () => {} }).imported).toEqual([]);
    const r = importMatchingLayers(renamed, dst, { match: 'order', log: () => {} });
    expect(r.imported.length).toBe(32);
    for (const l of src.layersToOptimize) expect(paramsOf(dst, l.name)).toEqual(paramsOf(src, l.name));
    const swapped = [...renamed];
    swapped[0] = { ...swapped[0]!, kind: 'linear' };
    expect(() => importMatchingLayers(swapped, dst, { match: 'order', log: () => {} })).toThrow(/'conv1_1' \(Convolution\) is paired with source layer 'layer0' \(linear\)/);
  });

  it('a shape mismatch is an error naming the layer and both shapes, and leaves the model untouched; skip reports it', () => {
    manualSeed(5);
    const wide = generateVgg16({ widthMult: 1 / 8, fcSize: 16, nclass: 10 });
    wide.initialize([3, 32, 32]);
    const layers = asSource(wide, (n) => n, false);
    const dst = tinyTransfer();
    const before = dst.layersToOptimize.map((l) => paramsOf(dst, l.name));
    expect(() => importMatchingLayers(layers, dst, { log: () => {} })).toThrow(/layer 'conv1_1' W has shape \[4, 3, 3, 3\] in the model but \[8, 3, 3, 3\] in the file/);
    expect(dst.layersToOptimize.map((l) => paramsOf(dst, l.name))).toEqual(before);
    const r = importMatchingLayers(layers, dst, { onShapeMismatch: 'skip', log: () => {} });
    expect(r.shapeMismatch[0]).toMatchObject({ layer: 'conv1_1', param: 'W', modelShape: [4, 3, 3, 3], sourceShape: [8, 3, 3, 3] });
    expect(r.imported).toEqual([]);
  });
});
