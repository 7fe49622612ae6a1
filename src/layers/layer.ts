// The one protocol every layer follows (neon's, in the batch-first layout):
//   configure(inShape) → outShape      shapes per example, without the batch axis
//   fprop(x, inference) → y             x: [N, ...inShape], y: [N, ...outShape]
//   bprop(delta, needInputGrad) → dx    delta = ∂cost/∂y summed over the batch (neon's convention)
//   params()                            trainable arrays with their gradients (Param)
//   describe()                          name, type, shapes, parameter count, forward FLOPs
// The mode flag is neon's `inference` (fprop(inputs, inference=False)) in every layer and
// in Model; only the autograd op dropout() keeps PyTorch's `training` option (public API).
// A layer is an op with parameters, called without the tape: fprop and bprop call the same
// forward and backward as the autograd ops (src/autograd/functions, one unit per op), and
// keep only what is neon's: gradients summed over the batch into each Param.grad, no input
// gradient where nothing below needs one, and the output layer's shortcuts (Softmax's bprop
// is 1; the cost's delta is y − t). No graph is recorded.
import type { Backend } from '../kernels/backend.js';
import type { DType, Tensor } from '../tensor/tensor.js';
import { commonBackend, type BackendPart } from '../autograd/ops/util.js';
import type { Param } from './param.js';
import { TlError } from '../util/errors.js';

/** What describe() returns: name, type, config, shapes, parameter count and forward FLOPs. */
export interface LayerDescription {
  name: string;
  /** neon's class name ('Convolution', 'Bias', 'Activation', 'Pooling', 'Linear', 'Dropout'). */
  type: string;
  /** Constructor options, JSON-serializable (saved in checkpoints). */
  config: Record<string, unknown>;
  inShape: number[];
  outShape: number[];
  nparams: number;
  /** Forward multiply-adds ×2 for one example. */
  flops: number;
}

/** The protocol every layer follows (neon's, batch first): configure, fprop, bprop, params, describe. */
export interface Layer {
  /** Unique within a model: checkpoints and weight import match by it. */
  readonly name: string;
  readonly className: string;
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  /** Set the input shape of one example ([C, H, W] or [F]), allocate parameters once; returns the output shape. */
  configure(inShape: readonly number[]): readonly number[];
  /** Forward pass of a batch x [N, ...inShape]; `inference` selects inference behaviour (dropout). */
  fprop(x: Tensor, inference: boolean): Tensor;
  /** Returns ∂cost/∂x, or null when needInputGrad is false (nothing below needs it). */
  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null;
  /** The trainable parameters with their gradients (empty for parameter-free layers). */
  params(): Param[];
  /** Name, type, config, shapes, parameter count, forward FLOPs. */
  describe(): LayerDescription;
}

// neon names unnamed layers '<ClassName>_<n>' with one counter per class.
const counters = new Map<string, number>();
function autoName(className: string): string {
  const n = counters.get(className) ?? 0;
  counters.set(className, n + 1);
  return `${className}_${n}`;
}

/** Restart automatic names (each model built from scratch gets the same names). */
export function resetLayerNames(): void {
  counters.clear();
}

/** Shared plumbing: name, shapes, and the "configure before use" check. */
export abstract class BaseLayer implements Layer {
  readonly name: string;
  abstract readonly className: string;
  inShape: readonly number[] = [];
  outShape: readonly number[] = [];
  /** dtype of the parameters, chosen before configure (float64 for gradient checks). */
  dtype: DType = 'float32';
  protected configured = false;

  constructor(name: string | undefined, className: string) {
    this.name = name ?? autoName(className);
  }

  configure(inShape: readonly number[]): readonly number[] {
    this.inShape = [...inShape];
    this.outShape = this.computeOutShape(inShape);
    this.configured = true;
    return this.outShape;
  }

  /**
   * The backend this layer computes on: the one where everything it is given or holds lives
   * (input, delta, parameters, saved forward state), each named for the message. A kernel
   * takes only its own backend's buffers, so where two differ this is a BackendError naming
   * the layer and both backends (a model configured under one default backend and fed
   * tensors made under another).
   */
  protected backendOf(...parts: BackendPart[]): Backend {
    return commonBackend(
      parts,
      ([firstWhat, first], [what, be]) =>
        `layer '${this.name}' (${this.className}): ${firstWhat} lives on backend '${first.name}' but ${what} on '${be.name}'; ` +
        'a layer runs on one backend: build the model and make its inputs under the same setBackend(), or move the input with .to(backend)',
      `layer '${this.name}' (${this.className}): no tensor to take the backend from`,
    );
  }

  protected abstract computeOutShape(inShape: readonly number[]): number[];

  /**
   * What a training fprop kept for bprop (its input or output). An inference fprop keeps
   * nothing, since Model hands its tensors' buffers back to the backend for reuse.
   */
  protected kept<T>(v: T | null): T {
    if (v === null) throw new TlError(`layer '${this.name}': bprop needs a training fprop first (fprop with inference keeps nothing for the backward pass)`);
    return v;
  }

  abstract fprop(x: Tensor, inference: boolean): Tensor;
  abstract bprop(delta: Tensor, needInputGrad: boolean): Tensor | null;

  params(): Param[] {
    return [];
  }

  protected config(): Record<string, unknown> {
    return {};
  }

  protected forwardFlops(): number {
    return 0;
  }

  describe(): LayerDescription {
    return {
      name: this.name,
      type: this.className,
      config: this.config(),
      inShape: [...this.inShape],
      outShape: [...this.outShape],
      nparams: this.params().reduce((n, p) => n + p.value.size, 0),
      flops: this.forwardFlops(),
    };
  }
}
