// neon's Bias layer: one value per channel (after a conv) or per unit (after a Linear),
// broadcast over the batch and space. Its gradient is δ summed over batch and space;
// the delta passes through unchanged. The math is the biasAdd op's
// (src/autograd/functions/bias.ts), called without the tape, writing into b.grad.
import type { Tensor } from '../tensor/tensor.js';
import { biasBackward, biasForward } from '../autograd/functions/bias.js';
import { BaseLayer } from './layer.js';
import { Constant, type Initializer } from './initializers.js';
import type { Param, ParamLayer } from './param.js';
import { initParam, makeParam } from './param-util.js';

/** neon's Bias layer: one learned value per channel (after a conv) or unit (after a Linear). */
export class Bias extends BaseLayer implements ParamLayer {
  readonly className = 'Bias';
  readonly init: Initializer;
  computeParamGrads = true;
  private b: Param | null = null;

  constructor(opts: { init?: Initializer; name?: string } = {}) {
    super(opts.name, 'Bias');
    this.init = opts.init ?? new Constant(0);
  }

  protected computeOutShape(inShape: readonly number[]): number[] {
    const n = inShape[0]!;
    if (!this.b || this.b.value.size !== n) {
      this.b = makeParam('b', [n], this.dtype);
      initParam(this.b, this.init, [n, 1]);
    }
    return [...inShape];
  }

  /** The bias b (after configure): a Convolution before this layer may add it in its own kernel (src/models/epilogue-fusion.ts). */
  get value(): Tensor {
    return this.b!.value;
  }

  fprop(x: Tensor, _inference?: boolean): Tensor {
    const be = this.backendOf(['its input', x.backend], ['its bias', this.b!.value.backend]);
    return biasForward(be, x, this.b!.value);
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    if (this.computeParamGrads) {
      const be = this.backendOf(['the delta', delta.backend], ['its bias', this.b!.value.backend]);
      biasBackward(be, delta, this.b!.grad);
    }
    return needInputGrad ? delta : null;
  }

  override params(): Param[] {
    return this.b ? [this.b] : [];
  }

  protected override config() {
    return { init: this.init.describe() };
  }

  protected override forwardFlops(): number {
    return this.inShape.reduce((a, b) => a * b, 1);
  }
}
