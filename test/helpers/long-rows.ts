// Softmax, its backward and costRows over rows longer than Mesa llvmpipe's 65535 loop steps
// per invocation (src/kernels/gpu/webgpu/long-rows.ts), run on a backend and on the
// reference with the same inputs: each output within `rtol` relative of the reference.
import type { Backend } from '../../src/kernels/backend.js';
import { Generator } from '../../src/index.js';
import { referenceBackend } from './backends.js';
import { expectClose } from './check.js';

export function checkLongRows(be: Backend, rows: number, cols: number, rtol: number): void {
  const g = new Generator(5);
  const n = rows * cols;
  // logits over [−4, 4]: exp(x − max) spans e^−8 .. 1, so every column counts in the sum
  const x = Float32Array.from({ length: n }, () => g.uniform(-4, 4));
  const dy = Float32Array.from({ length: n }, () => g.uniform(-1, 1));
  const bits = Float32Array.from({ length: n }, () => (g.uniform(0, 1) < 0.3 ? 1 : 0));
  const onehot = new Float32Array(n);
  for (let r = 0; r < rows; r++) onehot[r * cols + ((r * 7919) % cols)] = 1;
  const run = (b: Backend): Float32Array[] => {
    const up = (a: Float32Array) => b.upload(a.slice());
    const outs = [];
    for (const log of [false, true]) {
      const y = b.alloc('float32', n), dx = b.alloc('float32', n);
      b.softmax(up(x), rows, cols, log, y);
      b.softmaxBackward(y, up(dy), rows, cols, log, dx);
      outs.push(y, dx);
    }
    const p = b.alloc('float32', n);
    b.softmax(up(x), rows, cols, false, p);
    for (const [cost, t] of [['CrossEntropyMulti', onehot], ['CrossEntropyBinary', bits], ['SumSquared', bits]] as const) {
      const c = b.alloc('float32', rows);
      b.costRows(cost, p, up(t), rows, cols, c);
      outs.push(c);
    }
    return outs.map((o) => Float32Array.from(b.read(o, 0, b.lengthOf(o))));
  };
  const got = run(be), want = run(referenceBackend());
  const names = ['softmax', 'softmax backward', 'log-softmax', 'log-softmax backward', 'costRows CrossEntropyMulti', 'costRows CrossEntropyBinary', 'costRows SumSquared'];
  got.forEach((o, i) => {
    // a gradient may cross 0 inside a row (dy − Σ cancels): there a bound relative to the output's scale
    const scale = want[i]!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expectClose(o, want[i]!, `${names[i]} of ${rows} rows × ${cols} columns`, rtol, 1e-2 * rtol * scale);
  });
}
