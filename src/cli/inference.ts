// The lab's inference file: header "inference, target", then one line per test example,
// "[p_class0, p_class1], target_class", wrapped rows excluded.
import type { DataIterator } from '../data/iterator.js';
import type { Model } from '../models/model.js';
import { writeFileAtomicSync } from '../util/atomic.js';

export function formatInference(outputs: Float32Array, targets: Int32Array, nout: number): string {
  const lines = ['inference, target'];
  for (let i = 0; i < targets.length; i++) {
    const row = Array.from(outputs.subarray(i * nout, (i + 1) * nout), (v) => Number(v.toPrecision(8)).toString());
    lines.push(`[${row.join(', ')}], ${targets[i]}`);
  }
  return lines.join('\n') + '\n';
}

/** Target class of every example (argmax of its one-hot target), in eval order. */
export function targetClasses(set: DataIterator): Int32Array {
  const out = new Int32Array(set.ndata);
  set.reset();
  let row = 0;
  for (const b of set.batches()) {
    const K = b.tShape[1];
    for (let i = 0; i < b.valid && row < set.ndata; i++, row++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (b.t[i * K + k]! > b.t[i * K + best]!) best = k;
      out[row] = best;
    }
    if (row >= set.ndata) break;
  }
  set.reset();
  return out;
}

export function writeInferenceFile(path: string, model: Model, set: DataIterator): number {
  const out = model.getOutputs(set);
  const targets = targetClasses(set);
  writeFileAtomicSync(path, formatInference(out.toHost() as Float32Array, targets, out.shape[1]!));
  return targets.length;
}
