// The frozen prefix: the layers from the input that stay exactly as they are through some
// epochs, so their output for an example is the same in each of those epochs (fit's feature
// cache) and in every evaluation between them (evaluate's frozenBelow). A layer belongs to it
// when its forward is deterministic and draws no random numbers, and, if it has parameters,
// its learning rate is 0 at every one of those epochs and its optimizer states are zero
// (momentum SGD at learning rate 0 still moves a weight by μ·v while v ≠ 0).
import type { Layer } from '../layers/layer.js';
import type { ParamLayer } from '../layers/param.js';
import { fingerprint } from './feature-cache.js';

/** The part of an optimizer the prefix depends on (Model's TrainOptimizer has it). */
interface LearningRates {
  learningRateFor?(layer: ParamLayer, epoch: number): number;
}

/** Whether a layer has parameters (neon's layers_to_optimize are these). */
export function isParamLayer(l: Layer): l is Layer & ParamLayer {
  return 'computeParamGrads' in l && l.params().length > 0;
}

/** Layer classes whose training-mode forward is deterministic and uses no random numbers. */
const DETERMINISTIC = new Set(['Convolution', 'Bias', 'Activation', 'Pooling', 'Linear']);

/** "conv1_1..pool5", or one name: layers [0, cut). */
export function layerRange(layers: readonly Layer[], cut: number): string {
  return cut === 1 ? layers[0]!.name : `${layers[0]!.name}..${layers[cut - 1]!.name}`;
}

/**
 * How many layers from the input stay frozen through epochs [from, to) of `optimizer` (see
 * above), with at least one parameter layer among them; 0 when there is none. `why` says
 * where the prefix stops, or why there is none. The layers must be configured.
 */
export function frozenPrefixOf(layers: readonly Layer[], optimizer: LearningRates, from: number, to: number): { cut: number; why: string } {
  const lrFor = optimizer.learningRateFor?.bind(optimizer);
  if (!lrFor) return { cut: 0, why: 'the optimizer gives no per-layer learning rates' };
  if (to - from < 2) return { cut: 0, why: 'fewer than two epochs to train: nothing to reuse' };
  let cut = 0;
  let stop = 'every layer is frozen';
  for (; cut < layers.length; cut++) {
    const l = layers[cut]!;
    if (!DETERMINISTIC.has(l.className)) {
      stop = `'${l.name}' (${l.className}) ${l.className === 'Dropout' ? 'draws random numbers in training' : 'is not known to be deterministic'}`;
      break;
    }
    if (!isParamLayer(l)) continue;
    let trains = -1;
    for (let e = from; e < to && trains < 0; e++) if (lrFor(l, e) !== 0) trains = e;
    if (trains >= 0) {
      stop = `'${l.name}' trains (learning rate ${lrFor(l, trains)} at epoch ${trains + 1})`;
      break;
    }
  }
  const frozen = layers.slice(0, cut).filter(isParamLayer);
  if (!frozen.length) return { cut: 0, why: `no frozen layer at the bottom of the model: ${stop}` };
  for (const l of frozen) {
    for (const p of l.params()) {
      for (const st of p.states) {
        const v = st.toHost();
        for (let i = 0; i < v.length; i++) {
          if (v[i] !== 0) return { cut: 0, why: `'${l.name}' has a non-zero optimizer state (momentum velocity, e.g. from a checkpoint), which moves its weights even at learning rate 0` };
        }
      }
    }
  }
  return { cut, why: stop };
}

/** Fingerprint of the parameters of layers [0, cut): a change means their outputs may change. */
export function prefixFingerprint(layers: readonly Layer[], cut: number): string {
  return fingerprint(layers.slice(0, cut).filter(isParamLayer).flatMap((l) => l.params().map((p) => p.value.toHost())));
}

/** Whether layers [0, cut) compute float64 (their first parameter's dtype). */
export function prefixIsFloat64(layers: readonly Layer[], cut: number): boolean {
  return layers.slice(0, cut).filter(isParamLayer)[0]?.params()[0]?.value.dtype === 'float64';
}

/**
 * Why layers [0, cut) no longer give the outputs they gave when their fingerprint was
 * `print` (one of them trains at this epoch, or their weights changed), or null while they do.
 */
export function prefixChanged(layers: readonly Layer[], cut: number, print: string): string | null {
  for (const l of layers.slice(0, cut)) {
    if (isParamLayer(l) && l.computeParamGrads) return `'${l.name}' trains at this epoch`;
  }
  if (prefixFingerprint(layers, cut) !== print) return 'the weights of the frozen layers changed';
  return null;
}
