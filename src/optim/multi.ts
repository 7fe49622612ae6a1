// neon's MultiOptimizer (neon/optimizers/optimizer.py l.993-1140; docs/neon-notes.md#optimizers): one optimizer
// per layer, looked up by the layer's name, then its class name, then 'default'.
import type { ParamLayer } from '../layers/param.js';
import { TlError, UsageError } from '../util/errors.js';
import type { Json } from './schedule.js';
import { isOptimizer, type Optimizer, type OptimizerDescription } from './optimizer.js';

/** neon's MultiOptimizer: one optimizer per layer, looked up by layer name, then class name, then 'default'. */
export class MultiOptimizer implements Optimizer {
  readonly name: string | null;
  /** The mapping, in the order given (a Map, so that keys like 'constructor' are never inherited). */
  readonly mapping: ReadonlyMap<string, Optimizer>;

  constructor(mapping: Record<string, Optimizer>, opts: { name?: string | null } = {}) {
    if (mapping === null || typeof mapping !== 'object' || Array.isArray(mapping)) throw new UsageError('MultiOptimizer: mapping must be an object from layer name or class name to optimizer');
    const m = new Map<string, Optimizer>();
    for (const [key, opt] of Object.entries(mapping)) {
      if (!isOptimizer(opt)) throw new UsageError(`MultiOptimizer: mapping['${key}'] is not an optimizer`);
      m.set(key, opt);
    }
    if (!m.has('default')) {
      throw new TlError(`MultiOptimizer: the mapping must have a 'default' optimizer (it has ${m.size ? [...m.keys()].map((k) => `'${k}'`).join(', ') : 'no keys'})`);
    }
    this.mapping = m;
    this.name = opts.name ?? null;
  }

  /** The mapping key that applies to `layer`: its exact name, else its class name, else 'default'. */
  keyFor(layer: ParamLayer): string {
    if (this.mapping.has(layer.name)) return layer.name;
    if (this.mapping.has(layer.className)) return layer.className;
    return 'default';
  }

  /** The optimizer that applies to `layer`. */
  optimizerFor(layer: ParamLayer): Optimizer {
    return this.mapping.get(this.keyFor(layer))!;
  }

  /** The LR the layer's optimizer applies at `epoch` (schedule state unchanged); 0 marks a frozen layer. */
  learningRateFor(layer: ParamLayer, epoch: number): number {
    return this.optimizerFor(layer).learningRateFor(layer, epoch);
  }

  /**
   * Groups the layers per optimizer instance (in order of first appearance, as neon's dict)
   * and calls each optimizer once with its layers, so gradient-norm clipping spans all the
   * layers of one optimizer even when it is mapped under several keys.
   */
  optimize(layers: readonly ParamLayer[], epoch: number, bsz: number): void {
    const groups = new Map<Optimizer, ParamLayer[]>();
    for (const layer of layers) {
      const opt = this.optimizerFor(layer);
      let g = groups.get(opt);
      if (!g) groups.set(opt, (g = []));
      g.push(layer);
    }
    for (const [opt, ls] of groups) opt.optimize(ls, epoch, bsz);
  }

  /** `{key: state}` for every mapping key. */
  getState(): { [key: string]: Json } {
    const out: { [key: string]: Json } = {};
    for (const [k, opt] of this.mapping) out[k] = opt.getState();
    return out;
  }

  setState(state: Json): void {
    if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new TlError(`MultiOptimizer.setState: expected an object keyed by mapping key, got ${JSON.stringify(state)}`);
    const have = new Set(Object.keys(state));
    const want = [...this.mapping.keys()];
    const missing = want.filter((k) => !have.has(k));
    const extra = [...have].filter((k) => !this.mapping.has(k));
    if (missing.length || extra.length) {
      throw new TlError(`MultiOptimizer.setState: saved state is for keys [${[...have].join(', ')}] but the mapping has [${want.join(', ')}]`);
    }
    for (const [k, opt] of this.mapping) opt.setState(state[k]!);
  }

  describe(): OptimizerDescription {
    const mapping: { [key: string]: Json } = {};
    for (const [k, opt] of this.mapping) mapping[k] = opt.describe();
    return { type: 'MultiOptimizer', name: this.name, mapping };
  }
}
