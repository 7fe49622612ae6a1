import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tensor } from '../../src/index.js';
import { GradientDescentMomentum, PolySchedule, PowerSchedule, StepSchedule, optimizerFromDescription, type GradientDescentMomentumOptions } from '../../src/optim/index.js';
import { TlError, UsageError } from '../../src/util/errors.js';
import { bits, fakeLayer, setGrad, vals, vel } from './fake.js';
import type { ParamLayer } from '../../src/layers/param.js';

// ---------------------------------------------------------------------------------------
// Independent float64 reference of neon's update (neon/optimizers/optimizer.py), over plain number arrays, with
// float32 rounding where neon stores: the velocity, then the parameter.
interface RefParam { p: number[]; v: number[] | null; G: number[] }
interface RefCfg { lr: number; mu: number; wd: number; nesterov: boolean; clipNorm: number | null; clipValue: number | null; paramClip: number | null }
function refStep(ps: RefParam[], c: RefCfg, bsz: number): void {
  let scale = 1;
  if (c.clipNorm) {
    let sq = 0;
    for (const q of ps) for (const x of q.G) sq += x * x;
    scale = c.clipNorm / Math.max(Math.sqrt(sq) / bsz, c.clipNorm);
  }
  const clamp = (x: number, m: number | null): number => (m ? Math.min(Math.max(x, -Math.abs(m)), Math.abs(m)) : x);
  for (const q of ps) {
    if (c.mu !== 0 && q.v === null) q.v = q.p.map(() => 0);
    for (let i = 0; i < q.p.length; i++) {
      const g = clamp(q.G[i]! / bsz, c.clipValue);
      if (c.mu === 0) {
        q.p[i] = Math.fround(-c.lr * scale * g + (1 - c.lr * c.wd) * q.p[i]!); // no param clip (neon quirk)
      } else {
        const gp = scale * g + c.wd * q.p[i]!;
        q.v![i] = Math.fround(c.mu * q.v![i]! - c.lr * gp);
        const upd = c.nesterov ? c.mu * q.v![i]! - c.lr * gp : q.v![i]!;
        q.p[i] = Math.fround(clamp(q.p[i]! + upd, c.paramClip));
      }
    }
  }
}

/** Equal as float32 values, ±0 treated as equal, NaN equal to NaN. */
function sameValues(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i] || (Number.isNaN(x) && Number.isNaN(b[i])));
}

const f32 = (lo: number, hi: number) => fc.float({ min: Math.fround(lo), max: Math.fround(hi), noNaN: true, noDefaultInfinity: true });

// ---------------------------------------------------------------------------------------
describe('GradientDescentMomentum: hand-computed steps (dyadic values, exact in float32)', () => {
  // p0 = [1, -2], summed grads per step, bsz = 2, lr = μ = 0.5, wdecay = 0.25
  const grads = [[2, 4], [-2, 0], [4, -4]];

  it('momentum + weight decay: g′ = g/bsz + wd·p, v = μv − lr·g′, p += v', () => {
    const L = fakeLayer('l', 'Linear', [{ value: [1, -2] }]);
    const opt = new GradientDescentMomentum(0.5, { momentumCoef: 0.5, wdecay: 0.25 });
    const expectP = [[0.375, -2.75], [0.515625, -2.78125], [-0.478515625, -1.44921875]];
    const expectV = [[-0.625, -0.75], [0.140625, -0.03125], [-0.994140625, 1.33203125]];
    grads.forEach((G, k) => {
      setGrad(L.ps[0]!, G);
      opt.optimize([L], 0, 2);
      expect(vals(L.ps[0]!)).toEqual(expectP[k]);
      expect(vel(L.ps[0]!)).toEqual(expectV[k]);
    });
  });

  it('Nesterov: p += μ·v_new − lr·g′', () => {
    const L = fakeLayer('l', 'Linear', [{ value: [1, -2] }]);
    const opt = new GradientDescentMomentum(0.5, { momentumCoef: 0.5, wdecay: 0.25, nesterov: true });
    const expectP = [[0.0625, -3.125], [0.64453125, -2.7265625], [-0.931396484375, -0.71142578125]];
    const expectV = [[-0.625, -0.75], [0.1796875, 0.015625], [-0.99072265625, 1.3486328125]];
    grads.forEach((G, k) => {
      setGrad(L.ps[0]!, G);
      opt.optimize([L], 0, 2);
      expect(vals(L.ps[0]!)).toEqual(expectP[k]);
      expect(vel(L.ps[0]!)).toEqual(expectV[k]);
    });
  });

  it('momentum 0: p = −lr·g + (1 − lr·wd)·p, and no velocity is kept', () => {
    const L = fakeLayer('l', 'Linear', [{ value: [1, -2] }]);
    const opt = new GradientDescentMomentum(0.5, { wdecay: 0.25 });
    const expectP = [[0.375, -2.75], [0.828125, -2.40625], [-0.275390625, -1.10546875]];
    grads.forEach((G, k) => {
      setGrad(L.ps[0]!, G);
      opt.optimize([L], 0, 2);
      expect(vals(L.ps[0]!)).toEqual(expectP[k]);
    });
    expect(L.ps[0]!.states).toEqual([]);
  });

  it('velocity is created lazily in param.states, zero, shaped like the param', () => {
    const L = fakeLayer('l', 'Linear', [{ value: [1, 2, 3] }]);
    const opt = new GradientDescentMomentum(0.1, { momentumCoef: 0.9 });
    expect(L.ps[0]!.states.length).toBe(0);
    opt.optimize([L], 0, 1); // zero grad
    expect(L.ps[0]!.states.length).toBe(1);
    expect(L.ps[0]!.states[0]!.shape).toEqual([3]);
    expect(vel(L.ps[0]!)).toEqual([0, 0, 0]);
  });

  it('clip by norm: scale = clip/max(‖G‖/bsz, clip) over all params of the optimizer; weight decay is not scaled', () => {
    // ‖G‖ = ‖[6, 0, 8]‖ = 10, /bsz=2 → 5, clip 2.5 → scale 0.5; second step ‖G‖/bsz = 0.25 → scale 1
    const A = fakeLayer('a', 'Linear', [{ value: [1, 1] }]);
    const B = fakeLayer('b', 'Bias', [{ name: 'b', value: [1] }]);
    const opt = new GradientDescentMomentum(0.5, { momentumCoef: 0.5, wdecay: 0.5, gradientClipNorm: 2.5 });
    setGrad(A.ps[0]!, [6, 0]);
    setGrad(B.ps[0]!, [8]);
    opt.optimize([A, B], 0, 2);
    expect([...vals(A.ps[0]!), ...vals(B.ps[0]!)]).toEqual([0, 0.75, -0.25]);
    expect([...vel(A.ps[0]!), ...vel(B.ps[0]!)]).toEqual([-1, -0.25, -1.25]);
    setGrad(A.ps[0]!, [0.5, 0]);
    setGrad(B.ps[0]!, [0]);
    opt.optimize([A, B], 0, 2);
    expect([...vals(A.ps[0]!), ...vals(B.ps[0]!)]).toEqual([-0.625, 0.4375, -0.8125]);
    expect([...vel(A.ps[0]!), ...vel(B.ps[0]!)]).toEqual([-0.625, -0.3125, -0.5625]);
  });

  it('clip by norm, momentum 0 branch: p = −lr·scale·g + (1 − lr·wd)·p', () => {
    const A = fakeLayer('a', 'Linear', [{ value: [1, 1] }]);
    const B = fakeLayer('b', 'Bias', [{ name: 'b', value: [1] }]);
    const opt = new GradientDescentMomentum(0.5, { wdecay: 0.5, gradientClipNorm: 2.5 });
    setGrad(A.ps[0]!, [6, 0]);
    setGrad(B.ps[0]!, [8]);
    opt.optimize([A, B], 0, 2);
    expect([...vals(A.ps[0]!), ...vals(B.ps[0]!)]).toEqual([0, 0.75, -0.25]);
  });

  it('clip by value: the averaged gradient is clipped to ±|c| before weight decay is added', () => {
    for (const c of [1, -1]) {
      const L = fakeLayer('l', 'Linear', [{ value: [2, -2, 0] }]);
      const opt = new GradientDescentMomentum(0.5, { momentumCoef: 0.5, wdecay: 0.5, gradientClipValue: c });
      setGrad(L.ps[0]!, [3, -0.5, -7]);
      opt.optimize([L], 0, 1);
      expect(vel(L.ps[0]!)).toEqual([-1, 0.75, 0.5]);
      expect(vals(L.ps[0]!)).toEqual([1, -1.25, 0.5]);
    }
  });

  it('param clip: applied after the update in the momentum branch', () => {
    const L = fakeLayer('l', 'Linear', [{ value: [0.75, -0.75] }]);
    const opt = new GradientDescentMomentum(1, { momentumCoef: 0.5, paramClipValue: 1 });
    setGrad(L.ps[0]!, [-1, 1]);
    opt.optimize([L], 0, 1);
    expect(vel(L.ps[0]!)).toEqual([1, -1]);
    expect(vals(L.ps[0]!)).toEqual([1, -1]);
    setGrad(L.ps[0]!, [0, 0]);
    opt.optimize([L], 0, 1);
    expect(vel(L.ps[0]!)).toEqual([0.5, -0.5]);
    expect(vals(L.ps[0]!)).toEqual([1, -1]);
  });

  it('param clip: neon quirk, not written back when momentum is 0', () => {
    const L = fakeLayer('l', 'Linear', [{ value: [0.75] }]);
    const opt = new GradientDescentMomentum(1, { paramClipValue: 1 });
    setGrad(L.ps[0]!, [-1]);
    opt.optimize([L], 0, 1);
    expect(vals(L.ps[0]!)).toEqual([1.75]);
  });

  it('uses the schedule at the given epoch', () => {
    const L = fakeLayer('l', 'Linear', [{ value: [0] }]);
    const opt = new GradientDescentMomentum(1, { schedule: new StepSchedule([1], [0.25]) });
    setGrad(L.ps[0]!, [1]);
    opt.optimize([L], 0, 1);
    expect(vals(L.ps[0]!)).toEqual([-1]);
    opt.optimize([L], 1, 1);
    expect(vals(L.ps[0]!)).toEqual([-1.25]);
    opt.optimize([L], 2, 1);
    expect(vals(L.ps[0]!)).toEqual([-1.5]);
    expect(opt.getState()).toEqual({ schedule: { steps: 0.25 } });
  });
});

// ---------------------------------------------------------------------------------------
const cfgArb = fc.record({
  lr: fc.oneof(fc.constant(0), fc.double({ min: 1e-4, max: 1, noNaN: true })),
  mu: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.99, noNaN: true })),
  wd: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.1, noNaN: true })),
  nesterov: fc.boolean(),
  clipNorm: fc.option(fc.double({ min: 0.01, max: 5, noNaN: true }), { nil: null }),
  clipValue: fc.option(fc.double({ min: -2, max: 2, noNaN: true }), { nil: null }),
  paramClip: fc.option(fc.double({ min: 0.5, max: 10, noNaN: true }), { nil: null }),
});
const layerArb = fc.integer({ min: 1, max: 6 }).chain((n) => fc.record({ p: fc.array(f32(-10, 10), { minLength: n, maxLength: n }), G: fc.array(fc.array(f32(-100, 100), { minLength: n, maxLength: n }), { minLength: 3, maxLength: 3 }) }));

function optFromCfg(c: RefCfg, extra: GradientDescentMomentumOptions = {}): GradientDescentMomentum {
  return new GradientDescentMomentum(c.lr, { momentumCoef: c.mu, wdecay: c.wd, nesterov: c.nesterov, gradientClipNorm: c.clipNorm, gradientClipValue: c.clipValue, paramClipValue: c.paramClip, ...extra });
}

describe('GradientDescentMomentum: properties', () => {
  it('three steps over several layers equal the float64 reference formula', () => {
    fc.assert(
      fc.property(cfgArb, fc.array(layerArb, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 8 }), (c, specs, bsz) => {
        const layers = specs.map((s, k) => fakeLayer(`l${k}`, 'Linear', [{ value: s.p }]));
        const ref: RefParam[] = specs.map((s) => ({ p: Array.from(Float32Array.from(s.p)), v: null, G: [] }));
        const opt = optFromCfg(c);
        for (let step = 0; step < 3; step++) {
          specs.forEach((s, k) => {
            setGrad(layers[k]!.ps[0]!, s.G[step]!);
            ref[k]!.G = Array.from(Float32Array.from(s.G[step]!));
          });
          opt.optimize(layers, 0, bsz);
          refStep(ref, c, bsz);
          layers.forEach((L, k) => {
            expect(sameValues(vals(L.ps[0]!), ref[k]!.p), `step ${step} layer ${k}: ${vals(L.ps[0]!)} vs ${ref[k]!.p}`).toBe(true);
            if (c.mu !== 0) expect(sameValues(vel(L.ps[0]!), ref[k]!.v!)).toBe(true);
            else expect(L.ps[0]!.states.length).toBe(0);
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('with a constant LR, neon GDM equals PyTorch SGD(momentum, weight_decay, nesterov) on the averaged gradient', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 0.5, noNaN: true }), fc.double({ min: 0.01, max: 0.95, noNaN: true }), fc.double({ min: 0, max: 0.05, noNaN: true }), fc.boolean(), layerArb, fc.integer({ min: 1, max: 8 }), (lr, mu, wd, nesterov, s, bsz) => {
        const L = fakeLayer('l', 'Linear', [{ value: s.p }]);
        const opt = new GradientDescentMomentum(lr, { momentumCoef: mu, wdecay: wd, nesterov });
        // torch.optim.SGD (dampening 0): d = g + wd·p; buf = d (first step) or μ·buf + d;
        // nesterov: d = d + μ·buf, else d = buf; p -= lr·d. All in float64.
        const p = Array.from(Float32Array.from(s.p));
        let buf: number[] | null = null;
        for (let step = 0; step < 3; step++) {
          const G = Array.from(Float32Array.from(s.G[step]!));
          setGrad(L.ps[0]!, G);
          opt.optimize([L], 0, bsz);
          const d = G.map((x, i) => x / bsz + wd * p[i]!);
          buf = buf === null ? d : buf.map((b, i) => mu * b + d[i]!);
          for (let i = 0; i < p.length; i++) p[i]! -= lr * (nesterov ? d[i]! + mu * buf[i]! : buf[i]!);
        }
        const got = vals(L.ps[0]!);
        const mag = Math.max(1, ...s.p.map(Math.abs), ...s.G.flat().map((x) => (lr * Math.abs(x)) / bsz));
        got.forEach((x, i) => expect(Math.abs(x - p[i]!)).toBeLessThanOrEqual(1e-5 * mag));
      }),
      { numRuns: 200 },
    );
  });

  it('learning rate 0 never changes a bit, over many steps, with momentum, weight decay, Nesterov and clipping', () => {
    const specialValues = fc.constantFrom(0, -0, 1e-45, -1e-45, 3.4e38, -3.4e38, 1, -1);
    fc.assert(
      fc.property(
        cfgArb.map((c) => ({ ...c, lr: 0, wd: c.wd === 0 ? 0.5 : c.wd, paramClip: null })),
        fc.array(fc.oneof(f32(-1e6, 1e6), specialValues), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 64 }),
        (c, p0, bsz) => {
          const L = fakeLayer('frozen', 'Convolution', [{ value: p0 }, { name: 'b', value: p0.map((x) => -x) }]);
          const before = L.ps.map(bits);
          const opt = optFromCfg(c);
          for (let step = 0; step < 40; step++) {
            for (const q of L.ps) setGrad(q, q.value.data.map((_, i) => Math.sin(step * 7 + i) * 1e3));
            opt.optimize([L], step % 5, bsz);
          }
          expect(L.ps.map(bits)).toEqual(before);
          if (c.mu !== 0) for (const q of L.ps) expect(vel(q).every((x) => x === 0)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------
describe('GradientDescentMomentum: learning rate 0 and frozen layers', () => {
  it('a frozen GDM(0, μ, wd) keeps 1000 random params bit-identical over 200 steps', () => {
    const p0 = Float32Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 ? -0 : Math.sin(i) * 10 ** ((i % 9) - 4)));
    const L = fakeLayer('conv1_1', 'Convolution', [{ value: p0 }]);
    const before = bits(L.ps[0]!);
    const opt = new GradientDescentMomentum(0, { momentumCoef: 0.9, wdecay: 0.0005, nesterov: true });
    for (let s = 0; s < 200; s++) {
      setGrad(L.ps[0]!, Float32Array.from(p0, (_, i) => Math.cos(s + i) * 50));
      opt.optimize([L], Math.floor(s / 50), 32);
    }
    expect(bits(L.ps[0]!)).toEqual(before);
  });

  it('at lr 0 gradients are not read: computeParamGrads = false and even NaN grads leave params intact', () => {
    const L = fakeLayer('fc6', 'Linear', [{ value: [1, -0, 3] }]);
    L.computeParamGrads = false;
    setGrad(L.ps[0]!, [NaN, Infinity, -Infinity]);
    const before = bits(L.ps[0]!);
    for (const mu of [0, 0.9]) new GradientDescentMomentum(0, { momentumCoef: mu, wdecay: 1e-3, gradientClipNorm: 1 }).optimize([L], 0, 4);
    expect(bits(L.ps[0]!)).toEqual(before);
  });

  it('lr 0 from a schedule: params keep coasting on an existing velocity (v = μ·v), as neon', () => {
    const L = fakeLayer('l', 'Linear', [{ value: [0] }]);
    const opt = new GradientDescentMomentum(1, { momentumCoef: 0.5, schedule: new PowerSchedule(1, 0) }); // lr 1 at epoch 0, then 0
    setGrad(L.ps[0]!, [1]);
    opt.optimize([L], 0, 1); // v = −1, p = −1
    expect(opt.learningRateFor(L, 1)).toBe(0);
    opt.optimize([L], 1, 1); // v = −0.5, p = −1.5
    opt.optimize([L], 1, 1); // v = −0.25, p = −1.75
    expect(vel(L.ps[0]!)).toEqual([-0.25]);
    expect(vals(L.ps[0]!)).toEqual([-1.75]);
  });

  it('skipping weight gradients for a layer that trains is an error', () => {
    const L = fakeLayer('fc6', 'Linear', [{ value: [1] }]);
    L.computeParamGrads = false;
    expect(() => new GradientDescentMomentum(0.1).optimize([L], 0, 1)).toThrow(/computeParamGrads = false/);
  });
});

// ---------------------------------------------------------------------------------------
describe('GradientDescentMomentum: state, describe, bad input', () => {
  it('stop after 3 steps, rebuild from describe() + getState() + saved params/velocities, continue: bit-identical to an uninterrupted run', () => {
    const mk = () => fakeLayer('l', 'Linear', [{ value: [0.3, -1.7, 2.2] }, { name: 'b', value: [0.1] }]);
    const gradAt = (s: number, n: number) => Array.from({ length: n }, (_, i) => Math.sin(s * 3 + i) * 4);
    const opts = { momentumCoef: 0.9, wdecay: 5e-4, gradientClipNorm: 3, schedule: new StepSchedule([1, 2], [0.05, 0.01]) };
    const run = (L: ParamLayer & { ps: ReturnType<typeof mk>['ps'] }, opt: GradientDescentMomentum, from: number, to: number) => {
      for (let s = from; s < to; s++) {
        for (const q of L.ps) setGrad(q, gradAt(s, q.value.size));
        opt.optimize([L], Math.floor(s / 2), 8);
      }
    };
    const A = mk();
    run(A, new GradientDescentMomentum(0.1, opts), 0, 8);

    const B = mk();
    const optB = new GradientDescentMomentum(0.1, { ...opts, schedule: new StepSchedule([1, 2], [0.05, 0.01]) });
    run(B, optB, 0, 3);
    const saved = JSON.parse(JSON.stringify({ desc: optB.describe(), state: optB.getState(), params: B.ps.map((q) => ({ v: vals(q), s: vel(q) })) }));
    const C = mk();
    C.ps.forEach((q, k) => {
      q.value.data.set(saved.params[k].v);
      q.states.push(tensor(Float32Array.from(saved.params[k].s), q.value.shape as number[]));
    });
    const optC = optimizerFromDescription(saved.desc) as GradientDescentMomentum;
    optC.setState(saved.state);
    run(C, optC, 3, 8);
    expect(C.ps.map(bits)).toEqual(A.ps.map(bits));
    expect(C.ps.map(vel)).toEqual(A.ps.map(vel));
  });

  it('describe() is a plain config object', () => {
    const d = new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 5e-4, name: 'default' }).describe();
    expect(d).toEqual({ type: 'GradientDescentMomentum', name: 'default', learningRate: 0.01, momentumCoef: 0.9, wdecay: 5e-4, nesterov: false, gradientClipNorm: null, gradientClipValue: null, paramClipValue: null, schedule: { type: 'Schedule', stepConfig: null, change: 1 } });
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });

  it('rejects bad arguments and mismatched shapes with clear errors', () => {
    expect(() => new GradientDescentMomentum(-0.1)).toThrow(UsageError);
    expect(() => new GradientDescentMomentum(NaN)).toThrow(UsageError);
    expect(() => new GradientDescentMomentum(0.1, { momentumCoef: 1 })).toThrow(/momentumCoef/);
    expect(() => new GradientDescentMomentum(0.1, { wdecay: -1 })).toThrow(/wdecay/);
    expect(() => new GradientDescentMomentum(0.1, { gradientClipNorm: -1 })).toThrow(/gradientClipNorm/);
    const L = fakeLayer('l', 'Linear', [{ value: [1, 2] }]);
    const opt = new GradientDescentMomentum(0.1, { momentumCoef: 0.9 });
    expect(() => opt.optimize([L], 0, 0)).toThrow(/batch size/);
    expect(() => opt.optimize([L], -1, 1)).toThrow(/epoch/);
    L.ps[0]!.states.push(tensor([0, 0, 0]));
    expect(() => opt.optimize([L], 0, 1)).toThrow(/layer 'l' parameter 'W' has shape \[2\] but its velocity has shape \[3\]/);
    const bad = { name: 'x', className: 'Linear', computeParamGrads: true, params: () => [{ name: 'W', value: tensor([1, 2]), grad: tensor([1]), states: [] }] };
    expect(() => opt.optimize([bad], 0, 1)).toThrow(/gradient has shape/);
    const strided = { name: 's', className: 'Linear', computeParamGrads: true, params: () => [{ name: 'W', value: tensor([1, 2, 3, 4], [2, 2]).transpose(), grad: tensor([1, 1, 1, 1], [2, 2]), states: [] }] };
    expect(() => opt.optimize([strided], 0, 1)).toThrow(/not contiguous/);
    const nanLr = new GradientDescentMomentum(0.1, { schedule: new PolySchedule(1, 0.5) });
    expect(() => nanLr.optimize([fakeLayer('l', 'Linear', [{ value: [1] }])], 2, 1)).toThrow(TlError);
    expect(() => opt.setState({})).toThrow(TlError);
  });
});
