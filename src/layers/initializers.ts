// neon's initializers (neon/initializers/initializer.py). Each fills a parameter from the engine's generator
// in row-major order. Fan-in/fan-out follow neon's shapes: a conv W is (C·R·S, K) in neon,
// so shape[0] = C·R·S and shape[1] = K whatever our own [K, C, R, S] storage order is;
// a Linear W is (nout, nin).
import { rng } from '../tensor/random.js';
import type { FloatArray } from '../kernels/backend.js';

/** neon's 2-D view of a parameter: [shape0, shape1]. */
export type NeonShape = readonly [number, number];

/** neon's initializers: fill a parameter's values (drawing from the engine's generator). */
export interface Initializer {
  readonly name: string;
  /** Fill `data`; neonShape is neon's (fan-in, fan-out) view of the parameter. */
  fill(data: FloatArray, neonShape: NeonShape): void;
  /** Name and settings, JSON-serializable (saved in checkpoints). */
  describe(): Record<string, unknown>;
}

/** Every value `val`. */
export class Constant implements Initializer {
  readonly name = 'Constant';
  constructor(readonly val = 0) {}
  fill(data: FloatArray): void {
    data.fill(this.val);
  }
  describe() {
    return { type: this.name, val: this.val };
  }
}

/** Uniform in [low, high). */
export class Uniform implements Initializer {
  readonly name = 'Uniform';
  constructor(readonly low = 0, readonly high = 1) {}
  fill(data: FloatArray): void {
    for (let i = 0; i < data.length; i++) data[i] = rng.uniform(this.low, this.high);
  }
  describe() {
    return { type: this.name, low: this.low, high: this.high };
  }
}

/** Normal with mean `loc` and standard deviation `scale`. */
export class Gaussian implements Initializer {
  readonly name = 'Gaussian';
  /** scale is the standard deviation. */
  constructor(readonly loc = 0, readonly scale = 1) {}
  fill(data: FloatArray): void {
    for (let i = 0; i < data.length; i++) data[i] = rng.normal(this.loc, this.scale);
  }
  describe() {
    return { type: this.name, loc: this.loc, scale: this.scale };
  }
}

/** U(−k, k), k = sqrt(6 / (shape0 + shape1)). */
export class GlorotUniform implements Initializer {
  readonly name = 'GlorotUniform';
  fill(data: FloatArray, [a, b]: NeonShape): void {
    const k = Math.sqrt(6 / (a + b));
    for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-k, k);
  }
  describe() {
    return { type: this.name };
  }
}

/** U(−k, k), k = sqrt(3 / fan), fan = shape0 if local (conv fan-in C·R·S) else shape1. */
export class Xavier implements Initializer {
  readonly name = 'Xavier';
  constructor(readonly local = true) {}
  fill(data: FloatArray, [a, b]: NeonShape): void {
    const k = Math.sqrt(3 / (this.local ? a : b));
    for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-k, k);
  }
  describe() {
    return { type: this.name, local: this.local };
  }
}

/** N(0, 2 / fan) (std sqrt(2/fan)), same fan rule as Xavier. */
export class Kaiming implements Initializer {
  readonly name = 'Kaiming';
  constructor(readonly local = true) {}
  fill(data: FloatArray, [a, b]: NeonShape): void {
    const std = Math.sqrt(2 / (this.local ? a : b));
    for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, std);
  }
  describe() {
    return { type: this.name, local: this.local };
  }
}
