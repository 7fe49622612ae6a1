import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/formats/safetensors.js';
import { expectSameArray, expectTlError, expectTinyVgg, fx, REF } from './helpers.js';

type Expected = Record<string, Record<string, { shape: number[]; values: number[] }>>;
const MISC: Expected = JSON.parse(readFileSync(fx('misc_expected.json'), 'utf8'));

describe('safetensors', () => {
  it('a vgg state_dict in F32, grouped in natural order', async () => {
    const wf = await readSafetensors(fx('tiny_vgg.safetensors'));
    expect(wf.format).toBe('safetensors');
    expectTinyVgg(wf, REF.names.torch);
    expect(wf.layers.map((l) => l.name).slice(0, 4)).toEqual(['classifier.0', 'classifier.3', 'classifier.6', 'features.0']);
    expect(wf.layers.map((l) => l.name).slice(-3)).toEqual(['features.10', 'features.12', 'features.14']);
    expect(wf.notes.join('\n')).toMatch(/metadata format 'pt'/);
  });

  it('F16, BF16, F64 and I64 convert to float32', async () => {
    const wf = await readSafetensors(fx('misc.safetensors'));
    for (const [key, exp] of Object.entries(MISC['misc.safetensors']!)) {
      const l = wf.layers.find((x) => x.name === key)!;
      expect(l, key).toBeDefined();
      expect(l.params[0]!.shape).toEqual(exp.shape);
      expectSameArray(l.params[0]!.data, Float32Array.from(exp.values), key);
    }
    expect(wf.arrays).toContainEqual({ name: 'bf16', shape: [4], dtype: 'bfloat16' });
    expect(wf.arrays).toContainEqual({ name: 'count', shape: [2], dtype: 'int64' });
  });

  it('a header pointing past the data, overlapping tensors, not-safetensors', async () => {
    await expectTlError(() => readSafetensors(fx('bad_st_short.safetensors')), 'bad_st_short.safetensors', "tensor 'x'", 'needs 16 bytes');
    await expectTlError(() => readSafetensors(fx('bad_st_overlap.safetensors')), 'bad_st_overlap.safetensors', 'overlap');
    await expectTlError(() => readSafetensors(fx('bad_random.bin')), 'bad_random.bin', 'header claims');
  });
});
