// Track task 7, conv-layer: a reference solution (the layer of src/layers/convolution.ts, with
// the im2col + gemm + col2im convolution that fast backends run inside conv2dForward/Backward).
import { BaseLayer, Xavier, type Param, type ParamLayer, type Tensor, type WindowGeometry } from '../../../src/index.js';
import type { DeviceBuffer } from '../../../src/kernels/backend.js';
import { windowGeometry } from '../../../src/kernels/geometry.js';
import { dense, wrap } from '../../../src/autograd/ops/util.js';
import { initParam, makeParam } from '../../../src/layers/param-util.js';

export class MyConvolution extends BaseLayer implements ParamLayer {
  readonly className = 'Convolution';
  computeParamGrads = true;
  W: Param | null = null;
  g: WindowGeometry | null = null;
  private x: DeviceBuffer | null = null;
  private N = 0;

  constructor(readonly fshape: [number, number, number], readonly opts: { padding?: number; strides?: number; name?: string } = {}) {
    super(opts.name, 'Convolution');
  }

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

  fprop(x: Tensor, inference = false): Tensor {
    const be = x.backend, g = this.g!, K = this.fshape[2], N = x.shape[0]!;
    const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
    const xd = dense(x);
    const y = be.alloc(x.dtype, N * K * PQ), cols = be.alloc(x.dtype, CRS * PQ);
    for (let n = 0; n < N; n++) {
      be.im2col(xd, n * CHW, g, cols);
      be.gemm(false, false, K, PQ, CRS, 1, this.W!.value.storage, 0, CRS, cols, 0, PQ, 0, y, n * K * PQ, PQ);
    }
    this.x = inference ? null : xd;
    this.N = N;
    return wrap(be, y, [N, K, g.P, g.Q]);
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    const xd = this.kept(this.x);
    const be = delta.backend, g = this.g!, K = this.fshape[2], N = this.N;
    const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
    const dy = dense(delta), cols = be.alloc(delta.dtype, CRS * PQ);
    const dW = this.computeParamGrads ? this.W!.grad : null;
    if (dW) be.fill(dW.storage, 0, 0, dW.size);
    const dx = needInputGrad ? be.alloc(delta.dtype, N * CHW) : null;
    for (let n = 0; n < N; n++) {
      if (dW) {
        be.im2col(xd, n * CHW, g, cols); // dW += δ[n] [K, PQ] · cols ᵀ [PQ, CRS]
        be.gemm(false, true, K, CRS, PQ, 1, dy, n * K * PQ, PQ, cols, 0, PQ, 1, dW.storage, 0, CRS);
      }
      if (dx) {
        be.gemm(true, false, CRS, PQ, K, 1, this.W!.value.storage, 0, CRS, dy, n * K * PQ, PQ, 0, cols, 0, PQ); // Wᵀ · δ[n]
        be.col2im(cols, g, dx, n * CHW);
      }
    }
    return dx && wrap(be, dx, [N, g.C, g.H, g.W]);
  }
}
