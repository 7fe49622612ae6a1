// The playground's head graph (src/playground/page/step-graph.ts), in Node: on a small model
// taken through one step as the page's insideOneStep does (fprop layer by layer, the cost,
// bprop), the graph's cost is the step's, its boxes are the head's tensors, and the weight
// gradient it draws is the layer's bprop gradient divided by the batch size (softmax with
// CrossEntropyMulti: neon's y − t summed over the batch is exactly N times the tape's
// derivative of the mean cost).
import { describe, expect, it } from 'vitest';
import {
  Activation, Affine, Constant, Conv, CrossEntropyMulti, GeneralizedCost, generateVgg16TransferModel, manualSeed, Model, Rectlin, resetLayerNames, Softmax, tensor, type Tensor,
} from '../../src/index.js';
import { headGraph } from '../../src/playground/page/step-graph.js';

function step(model: Model, x: Tensor, t: Tensor): { inputs: Tensor[]; cost: number } {
  const inputs: Tensor[] = [];
  let y = x;
  for (const l of model.layers) {
    inputs.push(y);
    y = l.fprop(y, false);
  }
  const cost = model.cost!.getCost(y, t);
  let d: Tensor | null = model.cost!.getErrors(y, t);
  for (let i = model.layers.length - 1; i >= 0 && d; i--) d = model.layers[i]!.bprop(d, i > 0);
  return { inputs, cost };
}

describe('headGraph', () => {
  it('draws the head of one step: the step\'s cost, the head\'s tensors, W\'s gradient = bprop\'s / N', () => {
    resetLayerNames();
    manualSeed(2);
    const model = new Model([
      ...Conv([3, 3, 2], { padding: 1, bias: new Constant(0), name: 'conv' }), new Activation(Rectlin(), { name: 'relu' }),
      ...Affine(3, { bias: new Constant(0.1), activation: Softmax(), name: 'fc' }),
    ]);
    model.cost = new GeneralizedCost(CrossEntropyMulti());
    model.initialize([1, 4, 4]);
    const N = 5;
    const x = tensor(Float32Array.from({ length: N * 16 }, (_, i) => Math.sin(i)), [N, 1, 4, 4]);
    const t = tensor(Float32Array.from({ length: N * 3 }, (_, i) => (i % 3 === (Math.floor(i / 3) % 3) ? 1 : 0)), [N, 3]);
    const { inputs, cost } = step(model, x, t);
    const head = headGraph(model, inputs, t);
    if ('reason' in head) throw new Error(head.reason);
    expect(head.cost).toBeCloseTo(cost, 5);
    expect(head.layers).toEqual(['fc', 'fc_bias', 'fc_Softmax']);
    for (const op of ['linear', 'biasAdd', 'softmax', 'crossEntropyMulti']) expect(head.svg).toContain(`data-op="${op}"`);
    expect(head.svg).toContain('data-name="fc.W"');
    const fc = model.layers.find((l) => l.name === 'fc')!;
    const g = fc.params()[0]!.grad.toHost();
    const bpropNorm = Math.hypot(...g);
    const drawn = Number(/data-name="fc.W" data-grad-norm="([^"]+)"/.exec(head.svg)![1]);
    expect(drawn * N).toBeCloseTo(bpropNorm, 4);
  });

  it('on the demo\'s VGG-16 (dropout before the head, CrossEntropyBinary): the ops the page shows, and the step\'s cost', () => {
    resetLayerNames();
    manualSeed(4);
    const model = generateVgg16TransferModel({ nclass: 2, widthMult: 1 / 16, fcSize: 16 });
    model.initialize([1, 32, 32]);
    const N = 3;
    const x = tensor(Float32Array.from({ length: N * 32 * 32 }, (_, i) => Math.cos(i / 7) * 50), [N, 1, 32, 32]);
    const t = tensor(Float32Array.of(1, 0, 0, 1, 1, 0), [N, 2]);
    const { inputs, cost } = step(model, x, t);
    const head = headGraph(model, inputs, t);
    if ('reason' in head) throw new Error(head.reason);
    expect(head.cost).toBeCloseTo(cost, 5);
    const ops = [...head.svg.matchAll(/<g class="node" id="\w+" data-op="(\w+)"/g)].map((m) => m[1]).sort();
    expect(ops).toEqual(['biasAdd', 'constant', 'constant', 'crossEntropyBinary', 'leaf', 'leaf', 'linear', 'softmax']);
    expect(head.svg.match(/<path class="edge"/g)!.length).toBe(7); // linear 2, biasAdd 2, softmax 1, the cost 2
  });

  it('says why when the model does not end with a dense head', () => {
    resetLayerNames();
    const model = new Model([...Conv([3, 3, 2], { padding: 1, name: 'conv' })]);
    model.cost = new GeneralizedCost(CrossEntropyMulti());
    model.initialize([1, 4, 4]);
    const r = headGraph(model, [], tensor([1], [1, 1]));
    expect('reason' in r && r.reason).toBe('the model has no dense layer');
  });
});
