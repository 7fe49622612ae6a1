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
