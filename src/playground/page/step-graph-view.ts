// The "inside one step" view's figure: the head's autograd graph (step-graph.ts) as the page shows it.
import { el } from './dom.js';
import { headGraph } from './step-graph.js';
import type { RunResult, StepReport } from './engine.js';

/** The classifier head of the step as an autograd graph (step-graph.ts), or why not. */
export function stepGraph(r: RunResult, step: StepReport): HTMLElement {
  const head = headGraph(r.model, step.inputs, step.targets);
  if ('reason' in head) return el('p', { id: 'step-graph' }, `no graph of the head: ${head.reason}`);
  const fig = el('figure', { id: 'step-graph' }, el('figcaption', {}, `The head (${head.layers.join(', ')}) as the autograd tape records it, drawn by drawGraphSvg: each box an op or a tensor with its shape and ‖∂cost/∂node‖ (gradients of the mean cost as the tape defines it; neon's bprop in the table starts from its shortcut y − t summed over the minibatch, so its norms differ from these by a constant factor). Cost on the tape ${head.cost.toFixed(4)}.`));
  fig.insertAdjacentHTML('beforeend', head.svg); // our own SVG, its text escaped by drawGraphSvg
  return fig;
}
