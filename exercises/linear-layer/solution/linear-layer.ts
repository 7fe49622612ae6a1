// Track task 6, linear-layer: a reference solution (as src/layers/linear.ts).
import { BaseLayer, GlorotUniform, reshape, type Param, type ParamLayer, type Tensor } from '../../../src/index.js';
import { mm } from '../../../src/autograd/functions/matmul.js';
import { initParam, makeParam } from '../../../src/layers/param-util.js';

export class MyLinear extends BaseLayer implements ParamLayer {
  readonly className = 'Linear';
  computeParamGrads = true;
  W: Param | null = null;
  private x: Tensor | null = null;
  private xShape: readonly number[] = [];
  private nin = 0;

  constructor(readonly nout: number, opts: { name?: string } = {}) {
    super(opts.name, 'Linear');
  }

  protected computeOutShape(inShape: readonly number[]): number[] {
    this.nin = inShape.reduce((a, b) => a * b, 1);
    this.W = makeParam('W', [this.nout, this.nin], this.dtype);
    initParam(this.W, new GlorotUniform(), [this.nout, this.nin]);
    return [this.nout];
  }

  override params(): Param[] {
    return this.W ? [this.W] : [];
  }

  fprop(x: Tensor, inference = false): Tensor {
    const x2 = reshape(x, [x.shape[0]!, this.nin]);
    this.x = inference ? null : x2;
    this.xShape = x.shape;
    return mm(x2, this.W!.value, false, true); // y = x·Wᵀ
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    const x = this.kept(this.x);
    if (this.computeParamGrads) mm(delta, x, true, false, this.W!.grad); // dW = δᵀ·x, overwritten
    return needInputGrad ? reshape(mm(delta, this.W!.value), this.xShape) : null; // dx = δ·W
  }
}
