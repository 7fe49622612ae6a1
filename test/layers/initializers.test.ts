// neon's initializer formulas (neon/initializers/initializer.py), with fan-in/fan-out from neon's shapes:
// conv W as (C·R·S, K), Linear W as (nout, nin).
import { describe, expect, it } from 'vitest';
import { Constant, Convolution, Gaussian, GlorotUniform, Kaiming, Linear, Uniform, Xavier } from '../../src/layers/index.js';
import { manualSeed } from '../../src/index.js';

function stats(a: ArrayLike<number>) {
  let min = Infinity, max = -Infinity, s = 0, s2 = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    min = Math.min(min, v);
    max = Math.max(max, v);
    s += v;
    s2 += v * v;
  }
  const mean = s / a.length;
  return { min, max, mean, std: Math.sqrt(s2 / a.length - mean * mean) };
}

describe('initializers', () => {
  it('Xavier(local) on a conv uses fan = C·R·S: U(−√(3/fan), √(3/fan))', () => {
    manualSeed(1);
    const conv = new Convolution([3, 3, 64], { init: new Xavier(true) });
    conv.configure([64, 8, 8]);
    const k = Math.sqrt(3 / 576);
    const s = stats(conv.params()[0]!.value.data);
    expect(s.max).toBeLessThanOrEqual(k);
    expect(s.min).toBeGreaterThanOrEqual(-k);
    expect(s.max).toBeGreaterThan(0.95 * k);
    expect(s.std).toBeCloseTo(k / Math.sqrt(3), 3);
    const first = new Convolution([3, 3, 64]);
    first.configure([3, 8, 8]);
    expect(stats(first.params()[0]!.value.data).max).toBeLessThanOrEqual(Math.sqrt(3 / 27));
    expect(stats(first.params()[0]!.value.data).max).toBeGreaterThan(0.9 * Math.sqrt(3 / 27));
  });
  it('GlorotUniform: k = √(6 / (shape0 + shape1)) for Linear (nout, nin) and conv (C·R·S, K)', () => {
    manualSeed(2);
    const lin = new Linear(300, { init: new GlorotUniform() });
    lin.configure([500]);
    const k = Math.sqrt(6 / 800);
    const s = stats(lin.params()[0]!.value.data);
    expect(s.max).toBeLessThanOrEqual(k);
    expect(s.min).toBeGreaterThanOrEqual(-k);
    expect(s.std).toBeCloseTo(k / Math.sqrt(3), 3);
    const conv = new Convolution([3, 3, 32], { init: new GlorotUniform() });
    conv.configure([16, 5, 5]);
    expect(stats(conv.params()[0]!.value.data).max).toBeLessThanOrEqual(Math.sqrt(6 / (144 + 32)));
  });
  it('Kaiming: N(0, 2/fan); Gaussian(loc, scale) with scale the standard deviation; Uniform; Constant', () => {
    manualSeed(3);
    const conv = new Convolution([3, 3, 128], { init: new Kaiming(true) });
    conv.configure([64, 4, 4]);
    const s = stats(conv.params()[0]!.value.data);
    expect(s.mean).toBeCloseTo(0, 2);
    expect(s.std / Math.sqrt(2 / 576)).toBeCloseTo(1, 1);
    const g = new Linear(200, { init: new Gaussian(0.5, 0.1) });
    g.configure([400]);
    const sg = stats(g.params()[0]!.value.data);
    expect(sg.mean).toBeCloseTo(0.5, 2);
    expect(sg.std).toBeCloseTo(0.1, 2);
    const u = new Linear(100, { init: new Uniform(-2, 3) });
    u.configure([100]);
    const su = stats(u.params()[0]!.value.data);
    expect(su.min).toBeGreaterThanOrEqual(-2);
    expect(su.max).toBeLessThan(3);
    expect(su.mean).toBeCloseTo(0.5, 1);
    const c = new Linear(3, { init: new Constant(0.25) });
    c.configure([2]);
    expect(Array.from(c.params()[0]!.value.data)).toEqual([0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
  });
  it('one seed reproduces every weight', () => {
    const make = () => {
      manualSeed(42);
      const conv = new Convolution([3, 3, 8]);
      conv.configure([3, 6, 6]);
      return Array.from(conv.params()[0]!.value.data);
    };
    expect(make()).toEqual(make());
  });
});

describe('parameters of a large layer', () => {
  // initParam fills the built-in initializers a slice (2^20 values) at a time; a wrapper
  // that is not built in gets the whole array at once: the two must draw the same values.
  it('a layer larger than one slice gets the same values as one draw over the whole array', () => {
    const whole = (inner: Xavier | Kaiming) => ({ name: 'wrapped', fill: inner.fill.bind(inner), describe: () => inner.describe() });
    for (const init of [new Xavier(false), new Kaiming(false)]) {
      manualSeed(7);
      const sliced = new Linear(2100, { init });
      sliced.configure([1000]); // 2.1 M values: three slices, the last partial
      manualSeed(7);
      const once = new Linear(2100, { init: whole(init) });
      once.configure([1000]);
      const a = sliced.params()[0]!.value.data, b = once.params()[0]!.value.data;
      expect(a.length).toBe(2_100_000);
      expect(Array.from(a.subarray(2_097_100, 2_097_200))).toEqual(Array.from(b.subarray(2_097_100, 2_097_200)));
      let differ = 0;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
      expect(differ).toBe(0);
    }
  });

  it('a gradient is allocated on first use only, as zeros on the value\'s backend', () => {
    const conv = new Convolution([3, 3, 4]);
    conv.configure([2, 5, 5]);
    const p = conv.params()[0]!;
    const g = p.grad;
    expect(g.shape).toEqual(p.value.shape);
    expect(g.backend).toBe(p.value.backend);
    expect(Array.from(g.data).every((v) => v === 0)).toBe(true);
    expect(p.grad).toBe(g); // made once
  });
});
