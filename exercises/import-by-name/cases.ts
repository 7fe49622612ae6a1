// The tests of track task 10, import-by-name (run: npm run exercise import-by-name). Your
// importByName is set as importMatchingLayers' by-name matching (setNameImport,
// src/transfer/name-import.ts), the entry point the experiments, `train --source_model`
// and the demo import through; the engine's own matching is the reference.
import assert from 'node:assert/strict';
import { Affine, Constant, Conv, importMatchingLayers, manualSeed, Model, resetLayerNames, Softmax, type SourceLayer } from '../../src/index.js';
import { setNameImport } from '../../src/transfer/name-import.js';
import { defineExercise } from '../harness.js';
import { expectClose, randomArray, readmeTransfer } from '../kit.js';

type Impl = typeof import('./import-by-name.js');

function model(): Model {
  resetLayerNames();
  manualSeed(1);
  const m = new Model([
    Conv([3, 3, 4], { padding: 1, bias: new Constant(0), name: 'conv1' }), Conv([3, 3, 4], { padding: 1, bias: new Constant(0), name: 'conv2' }),
    Affine(3, { bias: new Constant(0), activation: Softmax(), name: 'fc' }),
  ]);
  m.initialize([2, 4, 4]);
  return m;
}

const arrayOf = (name: string, shape: number[], seed: number) => ({ name, shape, dtype: 'float32', data: Float32Array.from(randomArray(shape.reduce((a, b) => a * b, 1), seed, 'float32')) });

/** A file in neon's layout (conv1 with a separate bias layer), one in PyTorch's (conv2 with its bias), a layer the model lacks, and no fc. */
function source(conv2Shape = [4, 4, 3, 3]): SourceLayer[] {
  return [
    { name: 'conv1', kind: 'conv', params: [arrayOf('W', [4, 2, 3, 3], 1)] },
    { name: 'conv1_bias', kind: 'bias', params: [arrayOf('b', [4], 2)] },
    { name: 'conv2', kind: 'conv', params: [arrayOf('W', conv2Shape, 3), arrayOf('b', [4], 4)] },
    { name: 'extra', kind: 'linear', params: [arrayOf('W', [2, 2], 5)] },
  ];
}

function paramsOf(m: Model): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const l of m.layersToOptimize) for (const p of l.params()) out.set(`${l.name}.${p.name}`, Float32Array.from(p.value.toHost()));
  return out;
}

/** Runs fn with your import inside importMatchingLayers (counting its calls), then restores the engine's. */
async function withYourImport<T>(impl: Impl, fn: () => T | Promise<T>, calls = { n: 0 }): Promise<T> {
  const prev = setNameImport((src, m) => (calls.n++, impl.importByName(src, m)));
  try {
    return await fn();
  } finally {
    setNameImport(prev);
  }
}

export default defineExercise<Impl>({
  title: 'importing pretrained weights by layer name (neon\'s and PyTorch\'s bias layouts), all or nothing',
  cases: {
    'through importMatchingLayers: the same weights as the engine\'s matching, and the same lists': async (impl) => {
      const mine = model(), ref = model();
      const calls = { n: 0 };
      const got = await withYourImport(impl, () => importMatchingLayers(source(), mine, { log: () => {} }), calls);
      assert.equal(calls.n, 1, 'importMatchingLayers should have called your importByName once');
      const want = importMatchingLayers(source(), ref, { log: () => {} });
      assert.deepEqual(got.imported, want.imported, 'the imported layers (model order)');
      assert.deepEqual(got.notInSource, want.notInSource, 'the parameter layers not in the source');
      const wp = paramsOf(ref);
      for (const [name, v] of paramsOf(mine)) expectClose(`after the import, ${name}`, v, wp.get(name)!);
    },
    'a shape mismatch throws, naming the layer and both shapes, and copies nothing': async (impl) => {
      const m = model(), before = paramsOf(m);
      await withYourImport(impl, () => {
        assert.throws(() => importMatchingLayers(source([4, 4, 1, 1]), m, { log: () => {} }), (e: Error) => /conv2/.test(e.message) && /4, 4, 3, 3/.test(e.message) && /4, 4, 1, 1/.test(e.message),
          'an error whose message names conv2, [4, 4, 3, 3] (the model) and [4, 4, 1, 1] (the source)');
      });
      for (const [name, v] of paramsOf(m)) expectClose(`${name} after a failed import (all or nothing: nothing copied)`, v, before.get(name)!);
    },
    'transfer learning (the README\'s example): the MNIST-pretrained VGG-16 imported by your code trains to the engine\'s test accuracy': async (impl) => {
      const got = await withYourImport(impl, readmeTransfer);
      const want = await readmeTransfer();
      assert.deepEqual(got.imported, want.imported, 'the layers imported from models/vgg16-mnist-w0.125-fc128.h5');
      assert.equal(got.accuracy, want.accuracy, `test accuracy after transfer with your import ${got.accuracy}, with the engine's ${want.accuracy}`);
    },
  },
});
