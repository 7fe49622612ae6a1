// neon's metrics (neon/transforms/cost.py): per-example values averaged over the valid rows.
// argmax takes the first maximum, as numpy.
import { safelog } from '../autograd/ops/loss.js';

/** A metric of Model.eval: named values summed over a batch's valid rows (eval divides by the example count). */
export interface Metric {
  readonly names: string[];
  /** One value per metric name for example rows [0, rows) of y, t ([N, K] row-major), summed. */
  sum(y: Float32Array, t: Float32Array, K: number, rows: number): number[];
}

function argmax(a: Float32Array, start: number, K: number): number {
  let best = start;
  for (let k = start + 1; k < start + K; k++) if (a[k]! > a[best]!) best = k;
  return best - start;
}

/** Fraction of examples whose largest output is the target class. */
export class Accuracy implements Metric {
  readonly names = ['Accuracy'];
  sum(y: Float32Array, t: Float32Array, K: number, rows: number): number[] {
    let n = 0;
    for (let i = 0; i < rows; i++) if (argmax(y, i * K, K) === argmax(t, i * K, K)) n++;
    return [n];
  }
}

/** 1 − accuracy. */
export class Misclassification implements Metric {
  readonly names = ['Top1Misclass'];
  sum(y: Float32Array, t: Float32Array, K: number, rows: number): number[] {
    let n = 0;
    for (let i = 0; i < rows; i++) if (argmax(y, i * K, K) !== argmax(t, i * K, K)) n++;
    return [n];
  }
}

/** Mean −log(y of the target class). */
export class LogLoss implements Metric {
  readonly names = ['LogLoss'];
  sum(y: Float32Array, t: Float32Array, K: number, rows: number): number[] {
    let s = 0;
    for (let i = 0; i < rows; i++) {
      let p = 0;
      for (let k = i * K; k < (i + 1) * K; k++) p += y[k]! * t[k]!;
      s += -safelog(p);
    }
    return [s];
  }
}
