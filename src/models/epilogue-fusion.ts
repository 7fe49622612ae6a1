// Fused epilogues in a model's forward pass. neon builds Conv as three layers, Convolution,
// Bias and Activation (src/layers/compound.ts), and Affine as Linear, Bias and Activation;
// so does this engine, and run one by one they pass over the output three times. Where a
// Convolution or a Linear is followed by its Bias and/or a Rectlin Activation, the forward
// runs them as one backend call (conv2dForward, or linearForward for a dense layer: VGG's
// fc6 and fc7) with the bias and relu = true, whose backend adds the bias and applies the
// ReLU as the product's output is written (src/kernels/backend.ts). The values are the same
// bits as the three layers one by one; the backward is unchanged: the Activation keeps the
// fused output (ReLU's derivative is read from it), the Bias sums the delta, the Convolution
// or Linear computes its gradients from its input.
import { Activation } from '../layers/activation.js';
import { Bias } from '../layers/bias.js';
import { Convolution } from '../layers/convolution.js';
import type { Layer } from '../layers/layer.js';
import { Linear } from '../layers/linear.js';
import type { Tensor } from '../tensor/tensor.js';

/** A Convolution or Linear with the Bias and Rectlin Activation that follow it (either may be absent, not both). */
export interface EpilogueRun {
  layer: Convolution | Linear;
  bias: Bias | null;
  relu: Activation | null;
  /** Layers the run covers (2 or 3). */
  length: number;
}

/** The run starting at layers[i], if a Convolution or Linear there can take the next layers (all below `to`) as its epilogue. */
export function epilogueRunAt(layers: readonly Layer[], i: number, to: number): EpilogueRun | null {
  const layer = layers[i];
  if (!(layer instanceof Convolution || layer instanceof Linear)) return null;
  let j = i + 1;
  const bias = j < to && layers[j] instanceof Bias ? (layers[j++] as Bias) : null;
  const next = j < to ? layers[j] : undefined;
  const relu = next instanceof Activation && next.transform.name === 'Rectlin' ? next : null;
  if (relu) j++;
  return bias || relu ? { layer, bias, relu, length: j - i } : null;
}

/** The run's forward: one fused kernel call; the Activation keeps its output for its backward. */
export function fpropRun(run: EpilogueRun, x: Tensor, inference: boolean): Tensor {
  // Set around the call, not passed: a wrapper of fprop (the profile's) passes it on unchanged.
  run.layer.epilogue = { bias: run.bias ? run.bias.value : null, relu: run.relu !== null };
  let y: Tensor;
  try {
    y = run.layer.fprop(x, inference);
  } finally {
    run.layer.epilogue = null;
  }
  run.relu?.keepOutput(y, inference);
  return y;
}
