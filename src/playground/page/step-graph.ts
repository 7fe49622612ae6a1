// The classifier head of one training step, as the autograd tape records it: the input the
// step fed into the last dense layer (this minibatch's activations, dropout applied), that
// layer's weights and its bias, the softmax and the model's cost against the minibatch's
// targets, rebuilt from the tape's ops and drawn by drawGraphSvg (op, shape, ‖∂cost/∂node‖
// per box). The layers themselves back-propagate by bprop, not through the tape; this is the
// same computation written as a graph, on detached copies, so the model is left as it was.
// Nothing here touches the DOM.
import { biasAdd, crossEntropyBinary, crossEntropyMulti, flatten, linear, softmax, sumSquared } from '../../autograd/ops/index.js';
import { drawGraphSvg } from '../../autograd/draw-svg.js';
import type { Model } from '../../models/model.js';
import type { Layer } from '../../layers/layer.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { CostName } from '../../kernels/backend.js';

const COSTS: Record<CostName, (y: Tensor, t: Tensor) => Tensor> = {
  CrossEntropyBinary: crossEntropyBinary, CrossEntropyMulti: crossEntropyMulti, SumSquared: sumSquared,
};

export interface HeadGraph {
  /** The SVG document. */
  svg: string;
  /** The cost the tape computed: the mean over the minibatch, as the step's own. */
  cost: number;
  /** The layers drawn, by name. */
  layers: string[];
}

/**
 * The head [Linear, Bias?, Activation(Softmax)?] at the top of `model` drawn as a tape
 * graph, from `inputs` (each layer's input in the step) and the minibatch's `targets`;
 * a reason instead when the model does not end that way.
 */
export function headGraph(model: Model, inputs: readonly Tensor[], targets: Tensor): HeadGraph | { reason: string } {
  const layers = model.layers;
  const li = layers.map((l) => l.className).lastIndexOf('Linear');
  if (li < 0) return { reason: 'the model has no dense layer' };
  const after = layers.slice(li + 1);
  const bias: Layer | undefined = after[0]?.className === 'Bias' ? after[0] : undefined;
  const act = after[bias ? 1 : 0];
  const softmaxOn = act?.className === 'Activation' && (act as Layer & { transform: { name: string } }).transform.name === 'Softmax';
  if (after.length !== (bias ? 1 : 0) + (softmaxOn ? 1 : 0)) return { reason: `the model ends with ${after.map((l) => l.className).join(', ')} after its last dense layer, which this view does not draw` };
  if (!model.cost) return { reason: 'the model has no cost' };
  const fc = layers[li]!;
  const x = flatten(inputs[li]!.detach()); // [N, in]: a constant of the graph
  const W = fc.params()[0]!.value.detach().requiresGrad_();
  const b = bias ? bias.params()[0]!.value.detach().requiresGrad_() : null;
  let y = linear(x, W);
  if (b) y = biasAdd(y, b);
  if (softmaxOn) y = softmax(y);
  const t = targets.detach();
  const cost = COSTS[model.cost.costfunc.name](y, t);
  const names: Record<string, Tensor> = { [`${fc.name} input`]: x, [`${fc.name}.W`]: W, targets: t };
  if (b) names[`${bias!.name}.b`] = b;
  const svg = drawGraphSvg(cost, { names, title: `${model.cost.costfunc.name} of ${fc.name}${bias ? ` + ${bias.name}` : ''}${softmaxOn ? ' → softmax' : ''}, on the tape` });
  return { svg, cost: cost.item(), layers: [fc, bias, softmaxOn ? act : undefined].filter((l): l is Layer => !!l).map((l) => l.name) };
}
