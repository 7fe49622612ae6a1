// The tests of exercise rename-import (run: npm run exercise rename-import).
import assert from 'node:assert/strict';
import { Generator } from '../../src/index.js';
import type { SourceLayer } from '../../src/formats/types.js';
import { resetLayerNames } from '../../src/layers/layer.js';
import { generateVgg16TransferModel, VGG16_BLOCKS } from '../../src/models/vgg16.js';
import type { Model } from '../../src/models/model.js';
import { defineExercise } from '../harness.js';

type Impl = typeof import('./rename-import.js');

function model(): Model {
  resetLayerNames();
  const m = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
  m.initialize([3, 32, 32]);
  return m;
}

/** A "backbone" weight file for that model: convs with their bias fused, plus a head nothing should take. */
function backboneFile(m: Model): SourceLayer[] {
  const g = new Generator(15);
  const arr = (name: string, shape: readonly number[]) => ({ name, shape: [...shape], dtype: 'float32', data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => g.uniform(-1, 1)) });
  const layers: SourceLayer[] = [];
  VGG16_BLOCKS.forEach(([, n], b) => {
    for (let i = 1; i <= n; i++) {
      const W = m.layer(`conv${b + 1}_${i}`)!.params()[0]!.value;
      layers.push({ name: `backbone.stage${b + 1}.conv${i}`, kind: 'conv', params: [arr('W', W.shape), arr('b', [W.shape[0]!])] });
    }
  });
  layers.push({ name: 'head.fc1', kind: 'linear', params: [arr('W', [16, 32]), arr('b', [16])] });
  return layers;
}

export default defineExercise<Impl>({
  title: 'import a VGG-16 whose layer names follow another scheme',
  cases: {
    'labNameFor maps the backbone names and leaves the others': ({ labNameFor }) => {
      assert.equal(labNameFor('backbone.stage1.conv1'), 'conv1_1');
      assert.equal(labNameFor('backbone.stage3.conv3'), 'conv3_3');
      assert.equal(labNameFor('backbone.stage5.conv2'), 'conv5_2');
      assert.equal(labNameFor('head.fc1'), 'head.fc1');
      assert.equal(labNameFor('backbone.stage6.conv1'), 'backbone.stage6.conv1');
    },
    'without renaming, nothing is imported (the test can fail)': () => {
      // (A check on the test itself: the file's names match none of the model's.)
      const m = model();
      assert.ok(backboneFile(m).every((l) => !m.layer(l.name)));
    },
    'importRenamed imports the 13 convs and their biases, with the file\'s values': ({ importRenamed, labNameFor }) => {
      const m = model();
      const file = backboneFile(m);
      const report = importRenamed(file, m, labNameFor);
      assert.equal(report.imported.length, 26);
      assert.deepEqual(report.unusedInSource, ['head.fc1']);
      assert.deepEqual(Array.from(m.layer('conv2_1')!.params()[0]!.value.data), Array.from(file[2]!.params[0]!.data));
      assert.deepEqual(Array.from(m.layer('conv5_3_bias')!.params()[0]!.value.data), Array.from(file[12]!.params[1]!.data));
    },
    'the source list is not changed': ({ importRenamed, labNameFor }) => {
      const m = model();
      const file = backboneFile(m);
      importRenamed(file, m, labNameFor);
      assert.equal(file[0]!.name, 'backbone.stage1.conv1');
    },
  },
});
