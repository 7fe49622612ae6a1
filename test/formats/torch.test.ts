import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readTorchWeights } from '../../src/formats/torch.js';
import { expectSameArray, expectTlError, expectTinyVgg, fx, REF } from './helpers.js';

type Expected = Record<string, Record<string, { shape: number[]; values: number[] }>>;
const MISC: Expected = JSON.parse(readFileSync(fx('misc_expected.json'), 'utf8'));

describe('PyTorch zip checkpoints', () => {
  it('a torchvision-style vgg state_dict (features.N / classifier.N)', async () => {
    const wf = await readTorchWeights(fx('torch_vgg.pth'));
    expect(wf.format).toBe('PyTorch zip');
    expectTinyVgg(wf, REF.names.torch);
    expect(wf.layers.map((l) => l.name)).toEqual([
      'features.0', 'features.2', 'features.5', 'features.7', 'features.10', 'features.12', 'features.14',
      'classifier.0', 'classifier.3', 'classifier.6',
    ]);
    expect(wf.arrays[0]).toEqual({ name: 'features.0.weight', shape: [4, 3, 3, 3], dtype: 'float32' });
    expect(wf.arrays).toHaveLength(20);
  });

  it('strided views, storage offsets, shared storages, float16/bfloat16/float64/int64, scalars, parameters', async () => {
    const wf = await readTorchWeights(fx('torch_misc.pth'));
    const byKey = new Map<string, { shape: number[]; data: Float32Array; dtype: string }>();
    for (const l of wf.layers) {
      for (const p of l.params) {
        const suffix = p.name === 'W' ? 'weight' : p.name === 'b' ? 'bias' : p.name;
        byKey.set(`${l.name}.${suffix}`, p);
      }
    }
    for (const [key, exp] of Object.entries(MISC['torch_misc.pth']!)) {
      const got = byKey.get(key);
      expect(got, key).toBeDefined();
      expect(got!.shape, key).toEqual(exp.shape);
      expectSameArray(got!.data, Float32Array.from(exp.values), key);
    }
    expect(wf.arrays.find((a) => a.name === 'half.weight')!.dtype).toBe('float16');
    expect(wf.arrays.find((a) => a.name === 'bn.num_batches_tracked')).toEqual({ name: 'bn.num_batches_tracked', shape: [], dtype: 'int64' });
  });

  it('refuses a legacy (non-zip) torch file, saying how to re-save it', async () => {
    await expectTlError(() => readTorchWeights(fx('bad_torch_legacy.pth')), 'bad_torch_legacy.pth', 'legacy', '_use_new_zipfile_serialization=True');
  });

  it('a zip without data.pkl, a storage shorter than its tensor, a repacked (deflated) archive', async () => {
    await expectTlError(() => readTorchWeights(fx('bad_torch_no_datapkl.pth')), 'bad_torch_no_datapkl.pth', "without 'data.pkl'");
    await expectTlError(() => readTorchWeights(fx('bad_torch_short_storage.pth')), 'bad_torch_short_storage.pth', 'data/0', 'truncated or damaged');
    await expectTlError(() => readTorchWeights(fx('bad_torch_deflated.pth')), 'bad_torch_deflated.pth', 'compressed');
  });

  it('refuses code in data.pkl and whole pickled modules', async () => {
    await expectTlError(() => readTorchWeights(fx('bad_torch_evil.pth')), 'bad_torch_evil.pth', "'posix.system'");
    await expectTlError(() => readTorchWeights(fx('bad_torch_module.pth')), 'bad_torch_module.pth', 'torch.nn.modules', 'state_dict()');
  });

  it('random bytes and non-zip files', async () => {
    await expectTlError(() => readTorchWeights(fx('bad_random.bin')), 'bad_random.bin', 'end-of-central-directory');
  });
});
