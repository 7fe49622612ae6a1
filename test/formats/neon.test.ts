import { describe, expect, it } from 'vitest';
import { NEON_VGG_INPUT_NOTE, readNeonWeights } from '../../src/formats/neon.js';
import { expectTinyVgg, expectTlError, fx, REF } from './helpers.js';

describe('neon pickles', () => {
  it('old unfused layout written by Python 2 (as VGG_D.p): Convolution, Bias, Activation entries', async () => {
    const wf = await readNeonWeights(fx('neon_old_py2.p'));
    expect(wf.format).toBe('neon pickle');
    expectTinyVgg(wf, REF.names.neon, (n) => `${n}_bias`);
    // layers in file order, only those with weights; biases are separate layers
    expect(wf.layers.map((l) => l.name).slice(0, 4)).toEqual(['conv1_1', 'conv1_1_bias', 'conv1_2', 'conv1_2_bias']);
    expect(wf.layers.map((l) => l.kind).slice(-2)).toEqual(['linear', 'bias']);
    expect(wf.layers[0]!.sourceType).toBe('neon.layers.layer.Convolution');
    expect(wf.layers[0]!.params[0]).toMatchObject({ name: 'W', shape: [4, 3, 3, 3], dtype: 'float32' });
    expect(wf.notes.join('\n')).toMatch(/unfused Convolution \+ Bias layout/);
    expect(wf.notes.join('\n')).toMatch(/Python 2/);
    expect(wf.notes).toContain(NEON_VGG_INPUT_NOTE);
    expect(NEON_VGG_INPUT_NOTE).toMatch(/BGR/);
    // every raw array, in the file's layout, including the GPU backend's RNG state
    expect(wf.arrays).toContainEqual({ name: 'conv1_1.params.W', shape: [27, 4], dtype: 'float32' });
    expect(wf.arrays).toContainEqual({ name: 'conv1_1_bias.params.W', shape: [4, 1], dtype: 'float32' });
    expect(wf.arrays).toContainEqual({ name: 'fc6.params.W', shape: [16, 144], dtype: 'float32' });
    expect(wf.arrays).toContainEqual({ name: 'backend.rng_state[1]', shape: [64, 1], dtype: 'uint32' });
  });

  it('the same layout written by Python 3 (_codecs.encode data), with neon auto names', async () => {
    const wf = await readNeonWeights(fx('neon_old_py3.p'));
    expectTinyVgg(wf, REF.names.neon_auto, (n) => `${n}_bias`);
    expect(wf.layers[0]!.name).toBe('Convolution_0');
    expect(wf.notes.join('\n')).not.toMatch(/Python 2/);
  });

  for (const file of ['neon_fused.p', 'neon_fused.pkl.gz', 'neon_fused_proto0.p']) {
    it(`fused Convolution_bias layout (neon >= 2.3): ${file}`, async () => {
      const wf = await readNeonWeights(fx(file));
      // conv layers carry their bias as 'b'; Linear layers keep a separate Bias
      for (const ref of REF.layers) {
        const l = wf.layers.find((x) => x.name === ref.name)!;
        if (ref.kind === 'conv') expect(l.params.map((p) => p.name)).toEqual(['W', 'b']);
      }
      expect(wf.layers.filter((l) => l.kind === 'bias').map((l) => l.name)).toEqual(['fc6_bias', 'fc7_bias', 'fc8_bias']);
      // compare with the Linear biases folded into their layers
      expectTinyVgg(
        { ...wf, layers: wf.layers.map((l) => (l.kind === 'linear' ? { ...l, params: [...l.params, ...wf.layers.find((b) => b.name === `${l.name}_bias`)!.params] } : l)) },
        REF.names.neon,
      );
      expect(wf.notes.join('\n')).toMatch(/fused Convolution_bias layout/);
      if (file.endsWith('.gz')) expect(wf.notes.join('\n')).toMatch(/gzip/);
      // optimizer states are listed in arrays (as stored) but not returned as weights
      if (file === 'neon_fused.p') expect(wf.arrays).toContainEqual({ name: 'conv1_1.states[0][0]', shape: [27, 4], dtype: 'float32' });
    });
  }

  it('refuses a payload hidden inside a neon dict, naming the global and the file', async () => {
    await expectTlError(() => readNeonWeights(fx('evil_nested_neon.p')), 'evil_nested_neon.p', "'posix.system'");
  });

  it('gives clear errors for non-model pickles, empty, truncated and random files', async () => {
    await expectTlError(() => readNeonWeights(fx('bad_not_a_model.p')), 'bad_not_a_model.p', 'not a neon model dict');
    await expectTlError(() => readNeonWeights(fx('bad_empty.p')), 'bad_empty.p', 'empty file');
    await expectTlError(() => readNeonWeights(fx('bad_truncated.p')), 'bad_truncated.p', 'truncated');
    await expectTlError(() => readNeonWeights(fx('bad_random.bin')), 'bad_random.bin');
    await expectTlError(() => readNeonWeights(fx('values_p2.pkl')), 'values_p2.pkl', "no 'model' key");
    await expectTlError(() => readNeonWeights(fx('no_such_file.p')), 'no_such_file.p', 'no such file');
  });
});
