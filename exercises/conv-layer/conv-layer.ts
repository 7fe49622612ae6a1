// Track task 7, conv-layer: your work. See README.md; run `npm run exercise conv-layer`.
import { BaseLayer, Xavier, type Param, type ParamLayer, type Tensor, type WindowGeometry } from '../../src/index.js';
import type { DeviceBuffer } from '../../src/kernels/backend.js';
import { windowGeometry } from '../../src/kernels/geometry.js';
import { dense, wrap } from '../../src/autograd/ops/util.js';
import { initParam, makeParam } from '../../src/layers/param-util.js';

/**
 * neon's Convolution layer (weights only), computed with the backend's im2col, gemm and
 * col2im kernels, one image at a time: x [N, C, H, W] → y [N, K, P, Q], W [K, C, R, S].
 */
export class MyConvolution extends BaseLayer implements ParamLayer {
  readonly className = 'Convolution';
  computeParamGrads = true;
  W: Param | null = null;
  g: WindowGeometry | null = null;
  /** What fprop keeps for bprop: the input as a dense buffer (row-major from 0), and N. */
  private x: DeviceBuffer | null = null;
  private N = 0;

  constructor(readonly fshape: [number, number, number], readonly opts: { padding?: number; strides?: number; name?: string } = {}) {
    super(opts.name, 'Convolution');
  }

  // Given: the geometry g (C, H, W, R, S, stride, padding, dilation, P, Q) and W [K, C, R, S].
  protected computeOutShape(inShape: readonly number[]): number[] {
    const [C, H, W] = inShape as [number, number, number];
    const [R, S, K] = this.fshape;
    this.g = windowGeometry(this.name, C, H, W, R, S, { padding: this.opts.padding ?? 0, stride: this.opts.strides ?? 1 });
    this.W = makeParam('W', [K, C, R, S], this.dtype);
    initParam(this.W, new Xavier(true), [C * R * S, K]);
    return [K, this.g.P, this.g.Q];
  }

  override params(): Param[] {
    return this.W ? [this.W] : [];
  }

  /** y[n] = W [K, C·R·S] · im2col(x[n]) [C·R·S, P·Q] for each image n. */
  fprop(x: Tensor, inference = false): Tensor {
    const be = x.backend;
    // TODO: xd = dense(x); y = be.alloc(x.dtype, N·K·P·Q); cols = be.alloc(x.dtype, C·R·S·P·Q);
    // per image: be.im2col(xd, n·C·H·W, g, cols); be.gemm(...) into y at n·K·P·Q.
    // Keep xd and N for bprop unless `inference`; return wrap(be, y, [N, K, P, Q]).
    throw new Error(`TODO: MyConvolution.fprop of x [${x.shape.join(', ')}] on backend ${be.name} (inference ${inference}); ${typeof dense} ${typeof wrap} ${this.x} ${this.N}`);
  }

  /**
   * delta = ∂cost/∂y [N, K, P, Q]. W.grad = Σ_n delta[n] · im2col(x[n])ᵀ (overwritten: zero
   * it first; only when computeParamGrads); returns dx [N, C, H, W], dx[n] = col2im(Wᵀ · delta[n]),
   * or null when needInputGrad is false.
   */
  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    // TODO: be.fill(W.grad.storage, 0, 0, size); per image: im2col, gemm with beta = 1 into W.grad;
    // when needInputGrad: gemm Wᵀ·delta[n] into cols, then be.col2im(cols, g, dx, n·C·H·W).
    throw new Error(`TODO: MyConvolution.bprop of delta [${delta.shape.join(', ')}] (needInputGrad ${needInputGrad})`);
  }
}
