// Track task 6, linear-layer: your work. See README.md; run `npm run exercise linear-layer`.
import { BaseLayer, GlorotUniform, reshape, type Param, type ParamLayer, type Tensor } from '../../src/index.js';
import { mm } from '../../src/autograd/functions/matmul.js';
import { initParam, makeParam } from '../../src/layers/param-util.js';

/** neon's Linear layer: inputs flattened per example to [N, nin], W [nout, nin], y = x·Wᵀ [N, nout]. */
export class MyLinear extends BaseLayer implements ParamLayer {
  readonly className = 'Linear';
  computeParamGrads = true;
  W: Param | null = null;
  /** What fprop keeps for bprop: its input as a matrix [N, nin], and the input's shape. */
  private x: Tensor | null = null;
  private xShape: readonly number[] = [];
  private nin = 0;

  constructor(readonly nout: number, opts: { name?: string } = {}) {
    super(opts.name, 'Linear');
  }

  // Given: the parameter W [nout, nin], allocated and initialized as the engine's Linear does.
  protected computeOutShape(inShape: readonly number[]): number[] {
    this.nin = inShape.reduce((a, b) => a * b, 1);
    this.W = makeParam('W', [this.nout, this.nin], this.dtype);
    initParam(this.W, new GlorotUniform(), [this.nout, this.nin]);
    return [this.nout];
  }

  override params(): Param[] {
    return this.W ? [this.W] : [];
  }

  /** y [N, nout] = x [N, nin] · Wᵀ; keep x (as [N, nin]) for bprop unless `inference`. */
  fprop(x: Tensor, inference = false): Tensor {
    // TODO: reshape(x, [N, nin]); remember it (and x.shape) for bprop; mm(x2, W, false, true).
    throw new Error(`TODO: MyLinear.fprop of x [${x.shape.join(', ')}] (inference ${inference}) with W [${this.nout}, ${this.nin}]; ${typeof mm}, ${typeof reshape}, ${this.x}, ${this.xShape}`);
  }

  /**
   * delta = ∂cost/∂y [N, nout], summed over the batch. Writes dW = deltaᵀ·x into W.grad
   * (overwriting it; only when computeParamGrads) and returns dx = delta·W in x's original
   * shape, or null when needInputGrad is false.
   */
  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    // TODO: mm(delta, x, true, false, this.W.grad) writes into W.grad; mm(delta, W) is dx [N, nin].
    throw new Error(`TODO: MyLinear.bprop of delta [${delta.shape.join(', ')}] (needInputGrad ${needInputGrad})`);
  }
}
