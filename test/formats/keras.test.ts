import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openH5 } from '../../src/formats/h5.js';
import { readWeightFile } from '../../src/formats/index.js';
import { KERAS_LIMITS, readKerasWeights } from '../../src/formats/keras.js';
import { expectTinyVgg, expectTlError, fx, REF } from './helpers.js';

const WEIGHT_LAYERS = [
  'block1_conv1', 'block1_conv2', 'block2_conv1', 'block2_conv2', 'block3_conv1', 'block3_conv2', 'block3_conv3',
  'fc1', 'fc2', 'predictions',
];

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

  // Files written exactly as Keras' own save_weights() writes them
  // (scripts/fixtures/make_keras_fixtures.py follows Keras 1.1 keras/engine/topology.py
  // Container.save_weights_to_hdf5_group and Keras 2.2 keras/engine/saving.py
  // save_weights_to_hdf5_group line by line): `layer_names` lists every layer, and a layer
  // without weights (input_1, the pools, flatten, dropout_1/2) has `weight_names` = np.asarray([]),
  // an EMPTY FLOAT64 array. Such files once failed with "weight '' of layer 'input_1' is listed
  // in weight_names but missing".
  it('Keras 1 save_weights(): weightless layers with an empty float64 weight_names, <layer>_W / <layer>_b datasets', async () => {
    const wf = await readWeightFile(fx('keras1_save_weights.h5'));
    expect(wf.format).toBe('Keras HDF5');
    expectTinyVgg(wf, REF.names.keras);
    expect(wf.layers.map((l) => l.name)).toEqual(WEIGHT_LAYERS);
    expect(wf.arrays.map((a) => a.name)).toEqual(WEIGHT_LAYERS.flatMap((l) => [`${l}/${l}_W`, `${l}/${l}_b`]));
    expect(wf.arrays).toContainEqual({ name: 'block1_conv1/block1_conv1_W', shape: [3, 3, 3, 4], dtype: 'float32' });
    expect(wf.arrays).toContainEqual({ name: 'fc1/fc1_W', shape: [144, 16], dtype: 'float32' });
    expect(wf.notes.join('\n')).toContain("'fc1': input rows permuted from Keras channels-last Flatten order (H, W, C) = (3, 3, 16)");
    expect(wf.notes[0]).toMatch(/^Keras HDF5 weights \(weights-only layout\)/);
  });

  it('Keras 2 save_weights(): weightless layers with an empty float64 weight_names, <layer>/<layer>/kernel:0 datasets, root backend and keras_version', async () => {
    const wf = await readWeightFile(fx('keras2_save_weights.h5'));
    expect(wf.format).toBe('Keras HDF5');
    expectTinyVgg(wf, REF.names.keras);
    expect(wf.layers.map((l) => l.name)).toEqual(WEIGHT_LAYERS);
    expect(wf.arrays.map((a) => a.name)).toEqual(WEIGHT_LAYERS.flatMap((l) => [`${l}/${l}/kernel:0`, `${l}/${l}/bias:0`]));
    expect(wf.arrays).toContainEqual({ name: 'block3_conv3/block3_conv3/kernel:0', shape: [3, 3, 16, 16], dtype: 'float32' });
    expect(wf.notes[0]).toMatch(/keras_version 2\.2\.4, backend tensorflow, weights-only layout/);
  });

  it('an empty numeric weight_names is an empty list, a numeric one with elements is an error naming the layer', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tl-keras-')), 'numeric_names.h5');
    const f = await openH5(path, 'w', 'test file');
    f.create_attribute('layer_names', ['input_1', 'fc1']);
    f.create_group('input_1').create_attribute('weight_names', new Float64Array(0), [0], '<d');
    f.create_group('fc1').create_attribute('weight_names', Float64Array.of(1, 2), [2], '<d');
    f.close();
    await expectTlError(() => readWeightFile(path), 'numeric_names.h5', "attribute 'weight_names' of layer 'fc1' holds 2 numbers, not names");
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

  // The layer and weight names are variable-length strings kept in a global heap collection
  // ('GCOL', then per object: index u16, references u16, reserved u32, size u64). A size that
  // disagrees with the attribute's reference makes the library fail half-way through the read;
  // freeing that half-filled buffer of string pointers used to abort the WebAssembly module.
  it('a damaged global heap (the strings of layer_names) is a TlError naming the attribute; the library reads the next file', async () => {
    const src = readFileSync(fx('keras2_save_weights.h5'));
    const gcol = src.indexOf('GCOL');
    expect(gcol).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'tl-keras-gcol-'));
    for (const delta of [1n, -1n]) {
      const b = Buffer.from(src);
      b.writeBigUInt64LE(b.readBigUInt64LE(gcol + 24) + delta, gcol + 24);
      const path = join(dir, `gcol${delta}.h5`);
      writeFileSync(path, b);
      const e = await expectTlError(() => readKerasWeights(path), path, "could not read attribute 'layer_names'", 'damaged');
      expect(e.message).not.toMatch(/abort/i);
      // the same WebAssembly instance reads an intact file afterwards, with the same result
      expectTinyVgg(await readKerasWeights(fx('keras2_save_weights.h5')), REF.names.keras);
    }
  });
});
