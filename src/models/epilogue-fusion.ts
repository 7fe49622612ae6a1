// Fused epilogues in a model's forward pass. neon builds Conv as three layers, Convolution,
// Bias and Activation (src/layers/compound.ts), and so does this engine; run one by one they
// pass over the output three times. Where a Convolution is followed by its Bias and/or a
// Rectlin Activation, the forward runs them as one backend call, conv2dForward with the
// bias and relu = true, whose backend adds the bias and applies the ReLU as the
// convolution's output is written (src/kernels/backend.ts). The values are the same bits as
// the three layers one by one; the backward is unchanged: the Activation keeps the fused
// output (ReLU's derivative is read from it), the Bias sums the delta, the Convolution
// computes its gradients from its input.
import { Activation } from '../layers/activation.js';
import { Bias } from '../layers/bias.js';
import { Convolution } from '../layers/convolution.js';
import type { Layer } from '../layers/layer.js';
import type { Tensor } from '../tensor/tensor.js';

/** A Convolution with the Bias and Rectlin Activation that follow it (either may be absent, not both). */
export interface EpilogueRun {
  conv: Convolution;
  bias: Bias | null;
  relu: Activation | null;
  /** Layers the run covers (2 or 3). */
  length: number;
}

/** The run starting at layers[i], if a Convolution there can take the next layers (all below `to`) as its epilogue. */
export function epilogueRunAt(layers: readonly Layer[], i: number, to: number): EpilogueRun | null {
  const conv = layers[i];
  if (!(conv instanceof Convolution)) return null;
  let j = i + 1;
  const bias = j < to && layers[j] instanceof Bias ? (layers[j++] as Bias) : null;
  const next = j < to ? layers[j] : undefined;
  const relu = next instanceof Activation && next.transform.name === 'Rectlin' ? next : null;
  if (relu) j++;
  return bias || relu ? { conv, bias, relu, length: j - i } : null;
}

/** The run's forward: one fused convolution; the Activation keeps its output for its backward. */
export function fpropRun(run: EpilogueRun, x: Tensor, inference: boolean): Tensor {
  // Set around the call, not passed: a wrapper of fprop (the profile's) passes it on unchanged.
  run.conv.epilogue = { bias: run.bias ? run.bias.value : null, relu: run.relu !== null };
  let y: Tensor;
  try {
    y = run.conv.fprop(x, inference);
  } finally {
    run.conv.epilogue = null;
  }
  run.relu?.keepOutput(y, inference);
  return y;
}
