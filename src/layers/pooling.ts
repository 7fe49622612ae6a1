// neon's Pooling layer: max or average, stride defaulting to the window size. The window's
// validation and the math are the pooling ops' (src/autograd/functions/pool.ts), called
// without the tape; the layer skips dx when nothing below needs it.
import type { Pair } from '../kernels/geometry.js';
import type { WindowGeometry } from '../kernels/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { pool2dBackward, pool2dForward, poolWindow, type PoolSaved } from '../autograd/functions/pool.js';
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
  /**
   * What the last forward pass kept (its backend, input shape and, for max pooling, the
   * argmax, whose buffer the next forward reuses while the size and backend stay): bprop
   * runs there.
   */
  private saved: PoolSaved | null = null;

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
    this.g = poolWindow(`layer '${this.name}'`, C, H, W, this.fshape, { stride: this.opts.strides, padding: this.opts.padding ?? 0 }, 'strides');
    return [C, this.g.P, this.g.Q];
  }

  fprop(x: Tensor, _inference?: boolean): Tensor {
    const { y, saved } = pool2dForward(x.backend, this.op, x, this.g!, true, this.saved);
    this.saved = saved;
    return y;
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    const saved = this.kept(this.saved);
    this.backendOf(['the input of its forward pass', saved.be], ['the delta', delta.backend]);
    return pool2dBackward(saved, delta);
  }

  protected override config() {
    return { fshape: this.fshape, op: this.op, strides: this.opts.strides ?? this.fshape, padding: this.opts.padding ?? 0 };
  }

  protected override forwardFlops(): number {
    const g = this.g!;
    return g.C * g.P * g.Q * g.R * g.S;
  }
}
