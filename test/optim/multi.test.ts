import { describe, expect, it, vi } from 'vitest';
import { GradientDescentMomentum, MultiOptimizer, StepSchedule, optimizerFromDescription, type Optimizer } from '../../src/optim/index.js';
import { TlError } from '../../src/util/errors.js';
import { bits, fakeLayer, setGrad, vals } from './fake.js';

const layer = (name: string, className: string, value: number[] = [1]) => fakeLayer(name, className, [{ value }]);

describe('MultiOptimizer (neon/optimizers/optimizer.py)', () => {
  const def = new GradientDescentMomentum(0.001, { momentumCoef: 0.9, wdecay: 0.0005, name: 'default' });
  const bias = new GradientDescentMomentum(0.002, { momentumCoef: 0.9, name: 'Bias' });
  const cls = new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 0.0005, name: 'class_layer' });
  const clsBias = new GradientDescentMomentum(0.02, { momentumCoef: 0.9, name: 'class_layer_bias' });
  const m = new MultiOptimizer({ default: def, Bias: bias, class_layer: cls, class_layer_bias: clsBias });

  it('lookup: exact name beats class name beats default', () => {
    expect(m.optimizerFor(layer('class_layer_bias', 'Bias'))).toBe(clsBias); // name over class
    expect(m.optimizerFor(layer('fc6_bias', 'Bias'))).toBe(bias); // class
    expect(m.optimizerFor(layer('class_layer', 'Linear'))).toBe(cls); // name
    expect(m.optimizerFor(layer('conv1_1', 'Convolution'))).toBe(def); // default
    expect(m.keyFor(layer('fc6_bias', 'Bias'))).toBe('Bias');
    // a layer whose name is also a class key: the name wins
    const m2 = new MultiOptimizer({ default: def, Linear: cls, fc7: bias });
    expect(m2.optimizerFor(layer('fc7', 'Linear'))).toBe(bias);
    expect(m2.optimizerFor(layer('fc6', 'Linear'))).toBe(cls);
  });

  it("names inherited from Object.prototype are not mapping keys", () => {
    expect(m.optimizerFor(layer('constructor', 'toString'))).toBe(def);
  });

  it("a missing 'default' is an error, and so is a non-optimizer value", () => {
    expect(() => new MultiOptimizer({ Bias: bias })).toThrow(TlError);
    expect(() => new MultiOptimizer({ Bias: bias })).toThrow(/'default'/);
    expect(() => new MultiOptimizer({ default: {} as Optimizer })).toThrow(/not an optimizer/);
  });

  it('learningRateFor gives each layer its optimizer LR (0 marks frozen layers) without touching schedule state', () => {
    const frozen = new GradientDescentMomentum(0, { momentumCoef: 0.9 });
    const head = new GradientDescentMomentum(0.1, { momentumCoef: 0.9, schedule: new StepSchedule([3], [0.01]) });
    const mm = new MultiOptimizer({ default: frozen, fc6_new: head, fc6_new_bias: head });
    expect(mm.learningRateFor(layer('conv1_1', 'Convolution'), 0)).toBe(0);
    expect(mm.learningRateFor(layer('fc6_new', 'Linear'), 0)).toBe(0.1);
    expect(mm.learningRateFor(layer('fc6_new', 'Linear'), 3)).toBe(0.01);
    expect(mm.getState()).toEqual({ default: { schedule: { steps: 0 } }, fc6_new: { schedule: { steps: 0 } }, fc6_new_bias: { schedule: { steps: 0 } } });
  });

  it('optimize groups layers per optimizer instance, in order of first appearance, one call each', () => {
    const a = new GradientDescentMomentum(0.5);
    const b = new GradientDescentMomentum(0.25);
    const mm = new MultiOptimizer({ default: a, Bias: b, fc: b });
    const sa = vi.spyOn(a, 'optimize');
    const sb = vi.spyOn(b, 'optimize');
    const ls = [layer('conv', 'Convolution'), layer('conv_bias', 'Bias'), layer('fc', 'Linear'), layer('fc_bias', 'Bias')];
    mm.optimize(ls, 2, 4);
    expect(sa).toHaveBeenCalledTimes(1);
    expect(sa.mock.calls[0]![0].map((l) => l.name)).toEqual(['conv']);
    expect(sa.mock.calls[0]!.slice(1)).toEqual([2, 4]);
    expect(sb).toHaveBeenCalledTimes(1);
    expect(sb.mock.calls[0]![0].map((l) => l.name)).toEqual(['conv_bias', 'fc', 'fc_bias']);
  });

  it('updates each layer with its own optimizer (hand values), and a frozen default keeps conv layers bit-identical', () => {
    const frozen = new GradientDescentMomentum(0, { momentumCoef: 0.9, wdecay: 0.0005 });
    const head = new GradientDescentMomentum(0.5, { momentumCoef: 0.5 });
    const biasOpt = new GradientDescentMomentum(0.25);
    const mm = new MultiOptimizer({ default: frozen, Bias: biasOpt, fc: head });
    const conv = layer('conv1_1', 'Convolution', [0.123, -0.456]);
    const convB = layer('conv1_1_bias', 'Bias', [0.5]);
    const fc = layer('fc', 'Linear', [1]);
    const convBits = bits(conv.ps[0]!);
    for (let s = 0; s < 2; s++) {
      setGrad(conv.ps[0]!, [3, -5]);
      setGrad(convB.ps[0]!, [2]);
      setGrad(fc.ps[0]!, [2]);
      mm.optimize([conv, convB, fc], 0, 2);
    }
    expect(bits(conv.ps[0]!)).toEqual(convBits);
    expect(vals(convB.ps[0]!)).toEqual([0]); // 0.5 − 2·0.25·(2/2)
    expect(vals(fc.ps[0]!)).toEqual([-0.25]); // v: −0.5, −0.75; p: 0.5, −0.25
  });

  it('gradient-norm clipping spans all layers of one optimizer even under several keys', () => {
    const clip = new GradientDescentMomentum(1, { gradientClipNorm: 2.5 });
    const mm = new MultiOptimizer({ default: new GradientDescentMomentum(0), a: clip, b: clip });
    const A = layer('a', 'Linear', [0]);
    const B = layer('b', 'Linear', [0]);
    setGrad(A.ps[0]!, [6]);
    setGrad(B.ps[0]!, [8]);
    mm.optimize([A, B], 0, 2); // ‖[6, 8]‖/2 = 5 → scale 0.5
    expect([...vals(A.ps[0]!), ...vals(B.ps[0]!)]).toEqual([-1.5, -2]);
  });

  it('describe → optimizerFromDescription and getState → setState round-trip through JSON', () => {
    const sched = new StepSchedule([1], [0.05]);
    const src = new MultiOptimizer({ default: new GradientDescentMomentum(0.1, { momentumCoef: 0.9, schedule: sched }), Bias: new GradientDescentMomentum(0.2, { nesterov: true, momentumCoef: 0.5, paramClipValue: 3 }) });
    src.optimize([layer('x', 'Linear')], 1, 1);
    const d = JSON.parse(JSON.stringify(src.describe()));
    const st = JSON.parse(JSON.stringify(src.getState()));
    expect(st.default).toEqual({ schedule: { steps: 0.05 } });
    const back = optimizerFromDescription(d) as MultiOptimizer;
    expect(back.describe()).toEqual(src.describe());
    back.setState(st);
    expect(back.learningRateFor(layer('x', 'Linear'), 2)).toBe(0.05);
    expect(back.learningRateFor(layer('x_bias', 'Bias'), 2)).toBe(0.2);
    expect(() => back.setState({ default: st.default })).toThrow(/keys/);
    expect(() => optimizerFromDescription({ type: 'Adam' })).toThrow(TlError);
  });
});
