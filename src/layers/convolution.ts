// neon's Convolution layer: weights only (the bias is a separate Bias layer, as in the
// lab's neon). x [N, C, H, W] → y [N, K, P, Q]; W stored [K, C, R, S]. The math is the
// conv2d op's (src/autograd/functions/conv2d.ts), called without the tape; the layer adds
// neon's conventions: W.grad holds this batch's sum, and dx is skipped when not needed.
import { windowGeometry, type Pair } from '../kernels/geometry.js';
import type { Backend, WindowGeometry } from '../kernels/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { conv2dBackward, conv2dForward, type Conv2dSaved } from '../autograd/functions/conv2d.js';
import { shapeStr } from '../tensor/shape.js';
import { ShapeError } from '../util/errors.js';
import { BaseLayer } from './layer.js';
import { Xavier, type Initializer } from './initializers.js';
import type { Param, ParamLayer } from './param.js';
import { initParam, makeParam } from './param-util.js';

/** Strides (neon's name for the window step), padding, dilation (a number or [height, width]), weight initializer and name of a Convolution. */
export interface ConvolutionOptions {
  strides?: Pair;
  padding?: Pair;
  dilation?: Pair;
  init?: Initializer;
  name?: string;
}

/** neon's Convolution layer (weights only; the bias is a separate Bias layer): x [N, C, H, W] → y [N, K, P, Q], W [K, C, R, S]. */
export class Convolution extends BaseLayer implements ParamLayer {
  readonly className = 'Convolution';
  readonly R: number;
  readonly S: number;
  readonly K: number;
  readonly init: Initializer;
  computeParamGrads = true;
  private W: Param | null = null;
  private g: WindowGeometry | null = null;
  /** What the last training fprop kept for bprop (its input, the weight buffer, the geometry). */
  private saved: Conv2dSaved | null = null;

  /** fshape = [R, S, K] (neon: height, width, filters). */
  constructor(fshape: readonly [number, number, number], readonly opts: ConvolutionOptions = {}) {
    super(opts.name, 'Convolution');
    [this.R, this.S, this.K] = fshape;
    this.init = opts.init ?? new Xavier(true);
  }

  protected computeOutShape(inShape: readonly number[]): number[] {
    if (inShape.length !== 3) throw new ShapeError(`layer '${this.name}' (Convolution) needs an image input [C, H, W], got ${shapeStr(inShape)}`);
    const [C, H, W] = inShape as [number, number, number];
    this.g = windowGeometry(`layer '${this.name}'`, C, H, W, this.R, this.S, { stride: this.opts.strides ?? 1, padding: this.opts.padding ?? 0, dilation: this.opts.dilation ?? 1 }, 1, 'strides');
    if (!this.W || this.W.value.shape[1] !== C) {
      this.W = makeParam('W', [this.K, C, this.R, this.S], this.dtype);
      initParam(this.W, this.init, [C * this.R * this.S, this.K]);
    }
    return [this.K, this.g.P, this.g.Q];
  }

  /**
   * The Bias and Rectlin layers after this one, while the model runs them fused into this
   * layer's forward (src/models/epilogue-fusion.ts sets it around one fprop call): y = max(0, conv(x, W) + b).
   */
  epilogue: { bias: Tensor | null; relu: boolean } | null = null;

  fprop(x: Tensor, inference = false): Tensor {
    const epilogue = this.epilogue;
    const be = this.backendOf(['its input', x.backend], ['its weights', this.W!.value.backend], ...(epilogue?.bias ? [['the bias after it', epilogue.bias.backend] as [string, Backend]] : []));
    const { y, saved } = conv2dForward(be, x, this.W!.value, epilogue?.bias ?? null, this.g!, epilogue?.relu ?? false);
    this.saved = inference ? null : saved;
    return y;
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    const saved = this.kept(this.saved);
    const be = this.backendOf(['the input of its forward pass', saved.be], ['the delta', delta.backend]);
    const dW = this.computeParamGrads ? this.W!.grad : null;
    // W.grad is this batch's gradient alone: zeroed, then the kernel sums into it.
    if (dW) be.fill(dW.storage, 0, 0, dW.size);
    return conv2dBackward(saved, delta, { dx: needInputGrad, dw: dW ?? false, db: false }).dx;
  }

  override params(): Param[] {
    return this.W ? [this.W] : [];
  }

  protected override config() {
    return { fshape: [this.R, this.S, this.K], strides: this.opts.strides ?? 1, padding: this.opts.padding ?? 0, dilation: this.opts.dilation ?? 1, init: this.init.describe() };
  }

  protected override forwardFlops(): number {
    const g = this.g!;
    return 2 * this.K * g.C * g.R * g.S * g.P * g.Q;
  }
}
