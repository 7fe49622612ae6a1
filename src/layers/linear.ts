// neon's Linear layer (weights only; Affine adds a Bias). Inputs of any shape are flattened
// per example in C·H·W order, as neon does before fc6. W [nout, nin]:
//   y = x · Wᵀ     [N, nin]·[nin, nout]
//   dW = δᵀ · x    [nout, N]·[N, nin]   (summed over the batch)
//   dx = δ · W     [N, nout]·[nout, nin]
import type { Tensor } from '../tensor/tensor.js';
import { dense, wrap } from '../autograd/ops/util.js';
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
  private x: Tensor | null = null;
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

  fprop(x: Tensor, inference = false): Tensor {
    const N = x.shape[0]!;
    const be = this.backendOf(['its input', x.backend], ['its weights', this.W!.value.backend]);
    const y = be.alloc(x.dtype, N * this.nout);
    be.gemm(false, true, N, this.nout, this.nin, 1, dense(x), 0, this.nin, this.W!.value.storage, 0, this.nin, 0, y, 0, this.nout);
    this.x = inference ? null : x;
    return wrap(be, y, [N, this.nout]);
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    const x = this.kept(this.x);
    const N = x.shape[0]!;
    const be = this.backendOf(['the input of its forward pass', x.backend], ['the delta', delta.backend]);
    const d = dense(delta);
    if (this.computeParamGrads) {
      be.gemm(true, false, this.nout, this.nin, N, 1, d, 0, this.nout, dense(x), 0, this.nin, 0, this.W!.grad.storage, 0, this.nin);
    }
    if (!needInputGrad) return null;
    const dx = be.alloc(x.dtype, N * this.nin);
    be.gemm(false, false, N, this.nin, this.nout, 1, d, 0, this.nout, this.W!.value.storage, 0, this.nin, 0, dx, 0, this.nin);
    return wrap(be, dx, x.shape);
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
