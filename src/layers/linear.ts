// neon's Linear layer (weights only; Affine adds a Bias). Inputs of any shape are flattened
// per example in C·H·W order, as neon does before fc6. W [nout, nin]. The math is the
// linear op's (src/autograd/functions/linear.ts), called without the tape:
//   y = x · Wᵀ (+ b, then the ReLU, when the model fuses the Bias and Rectlin after it),   dW = δᵀ · x (summed over the batch, written into W.grad),   dx = δ · W
import type { Backend } from '../kernels/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { dense, wrap } from '../autograd/ops/util.js';
import { linearBackward, linearForward } from '../autograd/functions/linear.js';
import { BaseLayer } from './layer.js';
import { GlorotUniform, type Initializer } from './initializers.js';
import type { Param, ParamLayer } from './param.js';
import { initParam, makeParam } from './param-util.js';

/** neon's Linear layer (weights only; Affine adds the Bias): inputs flattened per example, W [nout, nin]. */
export class Linear extends BaseLayer implements ParamLayer {
  readonly className = 'Linear';
  readonly init: Initializer;
  computeParamGrads = true;
  private W: Param | null = null;
  /** The input of the last training fprop, as a matrix [N, nin] (its own buffer or a dense copy), and its shape. */
  private x: Tensor | null = null;
  private xShape: readonly number[] = [];
  private nin = 0;

  constructor(readonly nout: number, opts: { init?: Initializer; name?: string } = {}) {
    super(opts.name, 'Linear');
    this.init = opts.init ?? new GlorotUniform();
  }

  protected computeOutShape(inShape: readonly number[]): number[] {
    this.nin = inShape.reduce((a, b) => a * b, 1);
    if (!this.W || this.W.value.shape[1] !== this.nin) {
      this.W = makeParam('W', [this.nout, this.nin], this.dtype);
      initParam(this.W, this.init, [this.nout, this.nin]);
    }
    return [this.nout];
  }

  /**
   * The Bias and Rectlin layers after this one, while the model runs them fused into this
   * layer's forward (src/models/epilogue-fusion.ts sets it around one fprop call): y = max(0, x · Wᵀ + b).
   */
  epilogue: { bias: Tensor | null; relu: boolean } | null = null;

  fprop(x: Tensor, inference = false): Tensor {
    const epilogue = this.epilogue;
    const be = this.backendOf(['its input', x.backend], ['its weights', this.W!.value.backend], ...(epilogue?.bias ? [['the bias after it', epilogue.bias.backend] as [string, Backend]] : []));
    const x2 = wrap(be, dense(x), [x.shape[0]!, this.nin]);
    this.x = inference ? null : x2;
    this.xShape = x.shape;
    return linearForward(x2, this.W!.value, epilogue?.bias ?? null, epilogue?.relu ?? false);
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    const x = this.kept(this.x);
    const be = this.backendOf(['the input of its forward pass', x.backend], ['the delta', delta.backend]);
    const d = wrap(be, dense(delta), [x.shape[0]!, this.nout]);
    const { dx } = linearBackward(x, this.W!.value, d, { dx: needInputGrad, dw: this.computeParamGrads ? this.W!.grad : false });
    // dx [N, nin] back in the input's shape ([N, C, H, W] below fc6).
    return dx && wrap(be, dx.storage, this.xShape);
  }

  override params(): Param[] {
    return this.W ? [this.W] : [];
  }

  protected override config() {
    return { nout: this.nout, init: this.init.describe() };
  }

  protected override forwardFlops(): number {
    return 2 * this.nin * this.nout;
  }
}
