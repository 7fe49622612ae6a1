// neon's Pooling layer: max or average, stride defaulting to the window size.
import { windowGeometry, type Pair } from '../kernels/geometry.js';
import type { Backend, DeviceBuffer, WindowGeometry } from '../kernels/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { dense, wrap } from '../autograd/ops/util.js';
import { shapeStr } from '../tensor/shape.js';
import { ShapeError } from '../util/errors.js';
import { BaseLayer } from './layer.js';

/** Operation ('max' or 'avg'), strides (neon's name for the window step; default: the window), padding and name of a Pooling layer. */
export interface PoolingOptions {
  op?: 'max' | 'avg';
  strides?: Pair;
  padding?: Pair;
  name?: string;
}

/** neon's Pooling layer: max or average over windows of each channel. */
export class Pooling extends BaseLayer {
  readonly className = 'Pooling';
  private g: WindowGeometry | null = null;
  /** The argmax of the last max-pool forward (int32), a buffer of `fwdBackend`, reused while the size and backend stay. */
  private argmax: DeviceBuffer | null = null;
  /** The backend of the last forward pass: bprop runs there, on its argmax. */
  private fwdBackend: Backend | null = null;
  private xShape: readonly number[] = [];

  constructor(readonly fshape: Pair, readonly opts: PoolingOptions = {}) {
    super(opts.name, 'Pooling');
  }

  /** The pooling operation: max (the default) or avg. */
  get op(): 'max' | 'avg' {
    return this.opts.op ?? 'max';
  }

  protected computeOutShape(inShape: readonly number[]): number[] {
    if (inShape.length !== 3) throw new ShapeError(`layer '${this.name}' (Pooling) needs an image input [C, H, W], got ${shapeStr(inShape)}`);
    const [C, H, W] = inShape as [number, number, number];
    const [R, S] = typeof this.fshape === 'number' ? [this.fshape, this.fshape] : this.fshape;
    this.g = windowGeometry(`layer '${this.name}'`, C, H, W, R, S, { stride: this.opts.strides ?? [R, S], padding: this.opts.padding ?? 0 }, 1, 'strides');
    return [C, this.g.P, this.g.Q];
  }

  fprop(x: Tensor, _inference?: boolean): Tensor {
    const g = this.g!;
    const N = x.shape[0]!;
    const be = x.backend;
    const n = N * g.C * g.P * g.Q;
    const y = be.alloc(x.dtype, n);
    if (this.op === 'max') {
      if (!this.argmax || this.fwdBackend !== be || be.lengthOf(this.argmax) !== n) this.argmax = be.allocIndex(n);
      be.maxPoolForward(dense(x), N, g, y, this.argmax);
    } else {
      be.avgPoolForward(dense(x), N, g, true, y);
    }
    this.xShape = x.shape;
    this.fwdBackend = be;
    return wrap(be, y, [N, g.C, g.P, g.Q]);
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    const N = this.xShape[0]!;
    const be = this.backendOf(['the input of its forward pass', this.fwdBackend], ['the delta', delta.backend]);
    const dx = be.alloc(delta.dtype, this.xShape.reduce((a, b) => a * b, 1));
    if (this.op === 'max') be.maxPoolBackward(dense(delta), this.argmax!, N, this.g!, dx);
    else be.avgPoolBackward(dense(delta), N, this.g!, true, dx);
    return wrap(be, dx, this.xShape);
  }

  protected override config() {
    return { fshape: this.fshape, op: this.op, strides: this.opts.strides ?? this.fshape, padding: this.opts.padding ?? 0 };
  }

  protected override forwardFlops(): number {
    const g = this.g!;
    return g.C * g.P * g.Q * g.R * g.S;
  }
}
