// The lab's inference file: header "inference, target", then one line per test example,
// "[p_class0, p_class1], target_class", wrapped rows excluded.
import type { DataIterator } from '../data/iterator.js';
import type { Model } from '../models/model.js';
import { Accuracy } from '../models/metrics.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { TlError } from '../util/errors.js';
import { countNonFinite, describeNonFinite } from '../util/finite.js';
import { CountProgress } from './progress.js';

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

/** The test accuracy, outputs and target classes of one pass over the test set. */
export interface TestPass {
  accuracy: number;
  outputs: Float32Array;
  nout: number;
  targets: Int32Array;
}

/**
 * One pass over the test set for both the accuracy and the inference file (the set is read
 * once), with a progress line or bar ("test: 300/2000 images") when `progress` is given.
 */
export function testPass(model: Model, set: DataIterator, progress?: { label?: string }): TestPass {
  const bar = progress ? new CountProgress(progress.label ?? 'test', 'images') : undefined;
  const r = model.evaluate(set, new Accuracy(), { onBatch: bar ? (done, total) => bar.update(done, total) : undefined });
  checkFiniteOutputs(r.outputs, r.nout, 'test example');
  return { accuracy: r.metrics[0]!, outputs: r.outputs, nout: r.nout, targets: r.targets };
}

/** Write a test pass as the lab's inference file; returns the number of rows. */
export function writeTestPass(path: string, p: TestPass): number {
  checkFiniteOutputs(p.outputs, p.nout, 'test example', path);
  writeFileAtomicSync(path, formatInference(p.outputs, p.targets, p.nout));
  return p.targets.length;
}

/**
 * TlError when the model's outputs hold NaN or ±Inf (weights or inputs that are not finite,
 * or an overflow): the first such example and how many there are; nothing is written.
 */
export function checkFiniteOutputs(outputs: Float32Array, nout: number, what: string, file?: string, name?: (i: number) => string): void {
  const bad = countNonFinite(outputs);
  if (!bad) return;
  const i = Math.floor(bad.first / nout);
  let examples = 0;
  for (let r = 0; r < outputs.length / nout; r++) if (countNonFinite(outputs, r * nout, (r + 1) * nout)) examples++;
  const row = countNonFinite(outputs, i * nout, (i + 1) * nout)!;
  throw new TlError(
    `the model's outputs for ${what} ${name ? name(i) : i} hold ${describeNonFinite(row)} (${examples} of ${outputs.length / nout} examples are not finite); ` +
      `${file ? `${file} not written` : 'nothing written'}: check the weights and the input data for NaN or Inf values`,
  );
}
