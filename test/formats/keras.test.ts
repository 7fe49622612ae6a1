import { describe, expect, it } from 'vitest';
import { KERAS_LIMITS, readKerasWeights } from '../../src/formats/keras.js';
import { expectTinyVgg, expectTlError, fx, REF } from './helpers.js';

describe('Keras HDF5 weights', () => {
  it('the vgg16_weights_tf_dim_ordering_tf_kernels layout (block1_conv1_W_1:0 datasets)', async () => {
    const wf = await readKerasWeights(fx('keras_tf_kernels.h5'));
    expect(wf.format).toBe('Keras HDF5');
    // HWIO -> [K, C, R, S]; Dense (in, out) -> (out, in); fc1 rows from (H, W, C) to (C, H, W)
    expectTinyVgg(wf, REF.names.keras);
    expect(wf.layers.map((l) => l.name)).toEqual([
      'block1_conv1', 'block1_conv2', 'block2_conv1', 'block2_conv2', 'block3_conv1', 'block3_conv2', 'block3_conv3',
      'fc1', 'fc2', 'predictions',
    ]);
    expect(wf.notes.join('\n')).toContain("'fc1': input rows permuted from Keras channels-last Flatten order (H, W, C) = (3, 3, 16)");
    expect(wf.notes.join('\n')).toContain('weights-only layout');
    expect(wf.arrays).toContainEqual({ name: 'block1_conv1/block1_conv1_W_1:0', shape: [3, 3, 3, 4], dtype: 'float32' });
    expect(wf.arrays).toContainEqual({ name: 'fc1/fc1_W_1:0', shape: [144, 16], dtype: 'float32' });
  });

  it('the Keras 2 model.save() layout (model_weights/<layer>/<layer>/kernel:0)', async () => {
    const wf = await readKerasWeights(fx('keras2_model.h5'));
    expectTinyVgg(wf, REF.names.keras);
    expect(wf.notes[0]).toMatch(/keras_version 2\.2\.4, backend tensorflow, model\.save\(\) layout/);
  });

  it('reads Dense kernels a slice of rows at a time with the same result', async () => {
    const saved = KERAS_LIMITS.sliceElements;
    KERAS_LIMITS.sliceElements = 50; // 3 rows of 16 per slice: fc1's 144 rows take 48 slices
    try {
      // an explicit flatten shape equal to the inferred one changes nothing
      const wf = await readKerasWeights(fx('keras_tf_kernels.h5'), { kerasFlattenShape: [3, 3, 16] });
      expectTinyVgg(wf, REF.names.keras);
    } finally {
      KERAS_LIMITS.sliceElements = saved;
    }
  });

  it('rejects a flatten shape that does not match fc1', async () => {
    await expectTlError(() => readKerasWeights(fx('keras_tf_kernels.h5'), { kerasFlattenShape: [2, 2, 16] }), 'keras_tf_kernels.h5', 'kerasFlattenShape');
  });

  it('an HDF5 file without weights, and one whose layers hold none', async () => {
    await expectTlError(() => readKerasWeights(fx('bad_no_weights.h5')), 'bad_no_weights.h5', "no 'layer_names' attribute");
    await expectTlError(() => readKerasWeights(fx('bad_empty_layers.h5')), 'bad_empty_layers.h5', 'no layer holds weights');
    await expectTlError(() => readKerasWeights(fx('bad_random.bin')), 'bad_random.bin', 'not an HDF5 file');
  });
});
