// Where a training step's time goes (`tl-scratch train --profile`, `npm run bench -- profile`):
// per layer and pass (fprop, bprop data, bprop weights, update) the wall time, its share of
// the step, the nominal FLOP rate and the convolution algorithm, and how much of it ran inside
// backend kernels (the rest: allocation, fills, copies, the layer's own JavaScript).
//
// Everything is measured from outside: a Profile replaces, while attached, each layer's
// fprop and bprop, the optimizer's optimize, the cost's two methods and the backend's
// methods by timing wrappers (own properties over the prototype's or the table's), and
// puts them back on detach. Kernels are not touched. Attribution:
//   - a layer's fprop: the whole call;
//   - its bprop: kernel calls that write one of the layer's own parameter gradients are
//     "bprop weights" (with conv2dBackward split into a dx call and a dw call: they are
//     independent computations, so the results stay the same bit for bit), the rest of the
//     call is "bprop data";
//   - optimize: kernel calls that touch a layer's parameters are that layer's "update",
//     the rest of the call is one row of its own.
// A step is what lies between beginStep and endStep (the callback: one minibatch of fit,
// data wait and callbacks included); what a step spends outside every wrapped call is the
// row "outside layers", so the rows sum to the steps' wall time by construction. Calls
// outside a step (evaluation passes) are not counted. Only the outermost backend call is
// timed (a kernel that calls another through the backend counts once).
//
// Threads: where the backend computes on several (Backend.threadActivity, the fast cpu
// backend), the profile turns its recording on while attached and reads its counters
// around each step and each timed kernel call: per row and for the step, how many threads
// computed on average, and the share of the time during which all of them computed at
// once. Time outside kernels counts as one thread computing (the calling thread's).
import { STORAGE_METHODS, type Backend, type DeviceBuffer, type ThreadActivity, type WindowGeometry } from '../kernels/backend.js';
import type { Layer } from '../layers/layer.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Callback } from './callbacks.js';
import type { GeneralizedCost } from './cost.js';
import type { Model, TrainOptimizer } from './model.js';
import { isParamLayer } from './frozen-prefix.js';

export type ProfilePass = 'fprop' | 'bprop data' | 'bprop weights' | 'update';

/** One row of the profile: a layer's pass, or a row of time outside the layers (layer ''). */
export interface ProfileRow {
  layer: string;
  pass: ProfilePass | string;
  /** Milliseconds over all steps. */
  ms: number;
  /** Of which inside backend kernels (storage methods excluded). */
  kernelMs: number;
  /** Nominal FLOPs over all steps (convolutions counted as direct: 2·N·K·C·R·S·P·Q; gemms 2·M·N·K); 0: not counted. */
  flops: number;
  /** The convolution algorithm the backend ran (empty for other layers). */
  algorithm: string;
  /** Of ms, the time during which every thread of the backend computed at once (0 where it has one thread or does not say). */
  allBusyMs: number;
  /** Thread-milliseconds of computing in ms: ms itself on one thread; up to threads × ms (ms / threadMs: threads computing on average). */
  threadMs: number;
}

interface Acc { ms: number; kernelMs: number; flops: number; algorithm: string; allBusyMs: number; helperMs: number; waitMs: number }

const zero = (): Acc => ({ ms: 0, kernelMs: 0, flops: 0, algorithm: '', allBusyMs: 0, helperMs: 0, waitMs: 0 });
type Counters = ReturnType<ThreadActivity['read']>;

const PASSES: ProfilePass[] = ['fprop', 'bprop data', 'bprop weights', 'update'];

/** Where a timed call's time goes: a row key. */
type Key = string;

export class Profile {
  steps = 0;
  /** Wall time of the completed steps, ms. */
  stepMs = 0;
  /** Of stepMs, the time during which all threads computed at once (the backend's counters). */
  stepAllBusyMs = 0;
  /** Thread-milliseconds of computing in the completed steps (stepMs on one thread). */
  stepThreadMs = 0;
  /** The most threads a watched backend computed on in a step (1 without threadActivity). */
  threads = 1;
  /** Backends with threads: their recording state before attach, and their counters when the open step began. */
  private activities = new Map<ThreadActivity, { was: boolean; start: Counters }>();
  private readonly acc = new Map<Key, Acc>();
  private pending = new Map<Key, Acc>();
  private inStep = false;
  private stepStart = 0;
  private readonly restore: Array<() => void> = [];
  private readonly order: Key[] = [];
  /** The layer and pass a backend call is attributed to; null outside layers and optimizer. */
  private current: { layer: Layer | null; pass: ProfilePass | 'optimizer' | 'cost' } | null = null;
  /** Time in kernel calls that went to another row while the current layer call ran (subtracted from it). */
  private movedMs = 0;
  private depth = 0;
  private owners = new Map<DeviceBuffer, { layer: Layer; grad: boolean }>();
  private backends = new Set<Backend>();
  private layers: Layer[] = [];

  /** Wraps the model's layers, the optimizer, the cost and the layers' backend. */
  attach(model: Model, optimizer: TrainOptimizer | null, cost: GeneralizedCost | null): void {
    this.layers = model.layers;
    for (const l of model.layers) {
      for (const p of PASSES) if (p !== 'update' || isParamLayer(l)) this.key(l.name, p);
      this.wrapLayer(l);
    }
    this.key('', 'update (optimizer, outside kernels)');
    this.key('', 'cost');
    if (optimizer) this.wrapMethod(optimizer, 'optimize', 'optimizer');
    if (cost) {
      this.wrapMethod(cost, 'getCost', 'cost');
      this.wrapMethod(cost, 'getErrors', 'cost');
    }
  }

  /** Puts every wrapped method back. */
  detach(): void {
    while (this.restore.length) this.restore.pop()!();
    this.backends.clear();
    for (const [act, { was }] of this.activities) act.recording = was;
    this.activities.clear();
  }

  beginStep(): void {
    this.pending = new Map();
    this.inStep = true;
    for (const [act, a] of this.activities) a.start = act.read();
    this.stepStart = performance.now();
  }

  endStep(): void {
    if (!this.inStep) return;
    const ms = performance.now() - this.stepStart;
    this.stepMs += ms;
    this.stepThreadMs += ms;
    for (const [act, { start }] of this.activities) {
      const d = since(act, start);
      this.stepAllBusyMs += d.allBusyMs;
      this.stepThreadMs += d.helperBusyMs - d.waitMs;
      this.threads = Math.max(this.threads, act.threads);
    }
    this.steps++;
    for (const [k, a] of this.pending) {
      const t = this.acc.get(k)!;
      t.ms += a.ms; t.kernelMs += a.kernelMs; t.flops += a.flops;
      t.allBusyMs += a.allBusyMs; t.helperMs += a.helperMs; t.waitMs += a.waitMs;
      if (a.algorithm) t.algorithm = a.algorithm;
    }
    this.inStep = false;
  }

  /** Ends an open step without counting it. */
  cancelStep(): void {
    this.inStep = false;
  }

  /** The rows with time, in model order, then update, cost and the time outside layers. */
  rows(): ProfileRow[] {
    const rows: ProfileRow[] = [];
    for (const k of this.order) {
      const a = this.acc.get(k)!;
      if (a.ms === 0 && a.kernelMs === 0) continue;
      const [layer, pass] = JSON.parse(k) as [string, string];
      rows.push({ layer, pass, ms: a.ms, kernelMs: a.kernelMs, flops: a.flops, algorithm: a.algorithm, allBusyMs: a.allBusyMs, threadMs: a.ms + a.helperMs - a.waitMs });
    }
    const inside = rows.reduce((s, r) => s + r.ms, 0);
    const outside = Math.max(0, this.stepMs - inside);
    rows.push({ layer: '', pass: 'outside layers (data wait, callbacks, loop)', ms: outside, kernelMs: 0, flops: 0, algorithm: '', allBusyMs: 0, threadMs: outside });
    return rows;
  }

  /** The table: one line per row, with totals per pass and in kernels. */
  format(): string {
    const rows = this.rows();
    const n = Math.max(1, this.steps);
    const total = this.stepMs;
    const lines = [`profile: ${this.steps} steps, ${(total / n).toFixed(1)} ms a step (wall time; shares are of the step)`];
    const T = this.threads;
    if (T > 1) {
      lines.push(`all ${T} threads busy: ${pct(this.stepAllBusyMs, total)} of the step; threads computing on average: ${(this.stepThreadMs / Math.max(total, 1e-9)).toFixed(2)} of ${T}`);
    }
    // with threads: per row, threads computing on average, and the share of its time all computed
    const th = (ms: number, threadMs: number, allBusy: number) => (T > 1 ? [ms > 0 ? (threadMs / ms).toFixed(2) : '', pct(allBusy, ms)] : []);
    const head = ['layer', 'pass', 'ms/step', 'share', 'GFLOP/s', 'algorithm', 'in kernels', ...(T > 1 ? ['threads', 'all busy'] : [])];
    const table = rows.map((r) => [
      r.layer, r.pass, (r.ms / n).toFixed(2), pct(r.ms, total),
      r.flops > 0 && r.ms > 0 ? (r.flops / r.ms / 1e6).toFixed(1) : '', r.algorithm, r.layer ? pct(r.kernelMs, r.ms) : '',
      ...th(r.ms, r.threadMs, r.allBusyMs),
    ]);
    const byPass = new Map<string, [number, number, number, number, number]>();
    for (const r of rows) {
      const k = r.layer ? r.pass : 'outside layers';
      const v = byPass.get(k) ?? [0, 0, 0, 0, 0];
      byPass.set(k, [v[0] + r.ms, v[1] + r.flops, v[2] + r.kernelMs, v[3] + r.threadMs, v[4] + r.allBusyMs]);
    }
    table.push(head.map(() => ''));
    for (const [pass, [ms, fl, , tms, ab]] of byPass) table.push(['(all)', pass, (ms / n).toFixed(2), pct(ms, total), fl > 0 ? (fl / ms / 1e6).toFixed(1) : '', '', '', ...th(ms, tms, ab)]);
    const kernelMs = rows.reduce((s, r) => s + r.kernelMs, 0), flops = rows.reduce((s, r) => s + r.flops, 0);
    table.push(['(all)', 'outside kernels', ((total - kernelMs) / n).toFixed(2), pct(total - kernelMs, total), '', '', '', ...(T > 1 ? ['1.00', '0.0%'] : [])]);
    table.push(['(all)', 'step', (total / n).toFixed(2), '100%', flops > 0 ? (flops / total / 1e6).toFixed(1) : '', '', '', ...th(total, this.stepThreadMs, this.stepAllBusyMs)]);
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
    const right = new Set([2, 3, 4, 6, 7, 8]);
    const fmt = (r: string[]) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
    lines.push(fmt(head), ...table.map(fmt));
    return lines.join('\n');
  }

  /** A fit callback that attaches at the start of training, counts each minibatch as a step and detaches at the end. */
  callback(): Callback {
    return {
      onTrainBegin: (model) => this.attach(model, model.optimizer, model.cost),
      onEpochBegin: () => this.beginStep(),
      onMinibatchEnd: () => {
        this.endStep();
        this.beginStep();
      },
      onEpochEnd: () => this.cancelStep(),
      onTrainEnd: () => this.detach(),
    };
  }

  private key(layer: string, pass: string): Key {
    const k = JSON.stringify([layer, pass]);
    if (!this.acc.has(k)) {
      this.acc.set(k, zero());
      this.order.push(k);
    }
    return k;
  }

  private add(k: Key, ms: number, kernelMs: number, flops: number, algorithm = '', threads: Counters | null = null): void {
    if (!this.inStep) return;
    const a = this.pending.get(k) ?? zero();
    a.ms += ms; a.kernelMs += kernelMs; a.flops += flops;
    if (threads) {
      a.allBusyMs += threads.allBusyMs; a.helperMs += threads.helperBusyMs; a.waitMs += threads.waitMs;
    }
    if (algorithm) a.algorithm = algorithm;
    this.pending.set(k, a);
  }

  private rowOf(layer: Layer | null, pass: string): Key {
    return layer ? this.key(layer.name, pass) : this.key('', pass === 'optimizer' ? 'update (optimizer, outside kernels)' : pass);
  }

  /** Replaces obj[name] by a timed wrapper (an own property), restored on detach. */
  private replace<T extends object>(obj: T, name: string, wrapper: (orig: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown): void {
    const o = obj as Record<string, unknown>;
    const had = Object.prototype.hasOwnProperty.call(o, name);
    const prev = o[name];
    const orig = (prev as (...a: unknown[]) => unknown).bind(obj);
    o[name] = wrapper(orig);
    this.restore.push(() => {
      if (had) o[name] = prev;
      else delete o[name];
    });
  }

  private wrapLayer(l: Layer): void {
    this.replace(l, 'fprop', (orig) => (...a) => {
      const x = a[0] as Tensor;
      this.watchBackend(x.backend);
      return this.timedScope(l, 'fprop', () => orig(...a));
    });
    this.replace(l, 'bprop', (orig) => (...a) => {
      this.watchBackend((a[0] as Tensor).backend);
      this.owners = this.paramOwners();
      return this.timedScope(l, 'bprop data', () => orig(...a));
    });
  }

  private wrapMethod(obj: object, name: string, pass: 'optimizer' | 'cost'): void {
    this.replace(obj, name, (orig) => (...a) => {
      if (pass === 'optimizer') this.owners = this.paramOwners();
      return this.timedScope(null, pass, () => orig(...a));
    });
  }

  /** Runs f as the current (layer, pass); its wall time, less what kernel calls sent to other rows, goes to that row. */
  private timedScope<R>(layer: Layer | null, pass: ProfilePass | 'optimizer' | 'cost', f: () => R): R {
    const outer = this.current, outerMoved = this.movedMs;
    this.current = { layer, pass };
    this.movedMs = 0;
    const t0 = performance.now();
    try {
      return f();
    } finally {
      const ms = performance.now() - t0;
      this.add(this.rowOf(layer, pass), ms - this.movedMs, 0, 0);
      this.current = outer;
      this.movedMs = outerMoved + (outer ? ms : 0);
    }
  }

  /** Parameter buffers (values and gradients) → their layer. */
  private paramOwners(): Map<DeviceBuffer, { layer: Layer; grad: boolean }> {
    const m = new Map<DeviceBuffer, { layer: Layer; grad: boolean }>();
    for (const l of this.layers) {
      if (!isParamLayer(l)) continue;
      for (const p of l.params()) {
        m.set(p.value.storage, { layer: l, grad: false });
        m.set(p.grad.storage, { layer: l, grad: true });
      }
    }
    return m;
  }

  /** Wraps every method of a backend (once): kernels and storage methods. */
  private watchBackend(be: Backend): void {
    if (this.backends.has(be)) return;
    this.backends.add(be);
    const act = be.threadActivity;
    if (act && !this.activities.has(act)) {
      this.activities.set(act, { was: act.recording, start: act.read() });
      act.recording = true;
    }
    const storage = new Set<string>(STORAGE_METHODS);
    for (const name of Object.keys(be)) {
      if (typeof (be as unknown as Record<string, unknown>)[name] !== 'function') continue;
      const kernel = !storage.has(name);
      if (name === 'conv2dBackward') {
        this.replace(be, name, (orig) => (...a) => {
          const [x, N, w, K, g, dy, dx, dw, db] = a as [DeviceBuffer, number, DeviceBuffer, number, WindowGeometry, DeviceBuffer, DeviceBuffer | null, DeviceBuffer | null, DeviceBuffer | null];
          if (this.depth > 0 || !(dx && dw)) return this.timedCall(be, name, a, () => orig(...a));
          // one call per gradient: the time of each goes to its own pass
          this.timedCall(be, name, [x, N, w, K, g, dy, dx, null, db], () => orig(x, N, w, K, g, dy, dx, null, db));
          return this.timedCall(be, name, [x, N, w, K, g, dy, null, dw, null], () => orig(x, N, w, K, g, dy, null, dw, null));
        });
      } else {
        this.replace(be, name, (orig) => (...a) => (kernel ? this.timedCall(be, name, a, () => orig(...a)) : this.timedCall(be, null, a, () => orig(...a))));
      }
    }
  }

  /** One backend call (kernel: its name; storage method: null), attributed to its row. */
  private timedCall<R>(be: Backend, kernel: string | null, args: unknown[], f: () => R): R {
    if (this.depth > 0 || !this.current) {
      this.depth++;
      try { return f(); } finally { this.depth--; }
    }
    this.depth++;
    const act = be.threadActivity?.recording ? be.threadActivity : null;
    const c0 = act ? act.read() : null;
    const t0 = performance.now();
    try {
      return f();
    } finally {
      const ms = performance.now() - t0;
      const threads = act && c0 ? since(act, c0) : null;
      this.depth--;
      const { layer, pass } = this.current;
      // which row: a parameter gradient written in bprop, or a layer's parameters in the optimizer
      let target: { layer: Layer | null; pass: string } = { layer, pass };
      if (pass === 'bprop data' || pass === 'optimizer') {
        for (const a of args) {
          const o = a !== null && typeof a === 'object' ? this.owners.get(a as DeviceBuffer) : undefined;
          if (!o) continue;
          if (pass === 'bprop data' && o.grad && o.layer === layer) {
            target = { layer, pass: 'bprop weights' };
            break;
          }
          if (pass === 'optimizer') {
            target = { layer: o.layer, pass: 'update' };
            break;
          }
        }
      }
      const flops = kernel ? nominalFlops(kernel, args) : 0;
      const algorithm = kernel === 'conv2dForward' || kernel === 'conv2dBackward' ? algorithmOf(be, args[kernel === 'conv2dForward' ? 5 : 4] as WindowGeometry, args[3] as number) : '';
      const same = target.layer === layer && target.pass === pass;
      this.add(this.rowOf(target.layer, target.pass), same ? 0 : ms, kernel ? ms : 0, flops, algorithm, threads);
      if (!same) this.movedMs += ms;
    }
  }
}

/** Nominal FLOPs of a kernel call: convolutions as direct convolution, gemms 2·M·N·K (a dense layer's 2·N·nin·nout); others 0. */
function nominalFlops(kernel: string, a: unknown[]): number {
  if (kernel === 'gemm') return 2 * (a[2] as number) * (a[3] as number) * (a[4] as number);
  if (kernel === 'linearForward') return 2 * (a[1] as number) * (a[2] as number) * (a[4] as number);
  if (kernel === 'conv2dForward' || kernel === 'conv2dBackward') {
    const N = a[1] as number, K = a[3] as number, g = a[kernel === 'conv2dForward' ? 5 : 4] as WindowGeometry;
    const per = 2 * N * K * g.C * g.R * g.S * g.P * g.Q;
    if (kernel === 'conv2dForward') return per;
    return (a[6] ? per : 0) + (a[7] ? per : 0);
  }
  return 0;
}

/** The convolution algorithm a backend runs, as it says (Backend.convAlgorithm); the reference's is its direct loops. */
function algorithmOf(be: Backend, g: WindowGeometry, K: number): string {
  return be.convAlgorithm?.(g, K) ?? (be.name === 'ref' ? 'direct' : '');
}

/** The counters' advance since `start`. */
function since(act: ThreadActivity, start: Counters): Counters {
  const c = act.read();
  return { allBusyMs: c.allBusyMs - start.allBusyMs, helperBusyMs: c.helperBusyMs - start.helperBusyMs, waitMs: c.waitMs - start.waitMs };
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '';
}
