// import_matching_layers from the lab, generalized: copy every parameter of the target
// model that the source provides, by layer name (default) or by order, and report what was
// copied and what was not. All or nothing: every shape is checked before anything is copied.
//
// A source layer's arrays are addressed as (target layer name, param name):
//   conv/linear layer N:  W → (N, 'W');  a bias stored with it → (N_bias, 'b')   (fused, Keras, PyTorch)
//   bias layer N_bias:    b → (N_bias, 'b')                                        (neon's unfused layout)
// so biases land in the model's `_bias` layers whatever the file's layout.
import type { SourceLayer, WeightArray, WeightFile } from '../formats/types.js';
import type { Layer } from '../layers/layer.js';
import { isParamLayer, type Model } from '../models/model.js';
import { sameShape, shapeStr } from '../tensor/shape.js';
import { TlError } from '../util/errors.js';
import { labName } from './aliases.js';
import { nameImport } from './name-import.js';
import { mismatchHint } from './mismatch-hint.js';

/** Options of {@link importMatchingLayers}: match by name or order, what to do on a shape mismatch, where the report goes. */
export interface ImportOptions {
  /** 'name' pairs layers by (aliased) name; 'order' pairs conv/linear layers by position and type. */
  match?: 'name' | 'order';
  /** 'error' (default) stops on a shape mismatch; 'skip' leaves that layer untouched and reports it. */
  onShapeMismatch?: 'error' | 'skip';
  /** Receives the lab's report lines; default prints to stdout. Pass () => {} for silence. */
  log?: (line: string) => void;
}

/** A model parameter whose shape differs from its source array. */
export interface ShapeMismatch {
  layer: string;
  param: string;
  modelShape: number[];
  sourceShape: number[];
  source: string;
}

/** What {@link importMatchingLayers} did: layers imported, not in the source, unused in the source, mismatched. */
export interface ImportReport {
  /** Names of model layers whose parameters were all copied. */
  imported: string[];
  /** Model parameter layers the source does not provide. */
  notInSource: string[];
  /** Source layers (file names) that no model layer took. */
  unusedInSource: string[];
  shapeMismatch: ShapeMismatch[];
}

interface SourceEntry {
  /** The array's place in the file, for messages: 'features.0 W'. */
  origin: string;
  sourceLayer: string;
  array: WeightArray;
}

/** Map (target layer, param) → source array, using names. */
function byName(layers: SourceLayer[]): Map<string, SourceEntry> {
  const map = new Map<string, SourceEntry>();
  const put = (target: string, param: string, src: SourceLayer, a: WeightArray) => {
    map.set(`${target}\u0000${param}`, { origin: `${src.name} ${a.name}`, sourceLayer: src.name, array: a });
  };
  for (const src of layers) {
    const name = labName(src.name);
    for (const a of src.params) {
      if (src.kind === 'bias') put(name, 'b', src, a);
      else if (a.name === 'W') put(name, 'W', src, a);
      else if (a.name === 'b') put(`${name}_bias`, 'b', src, a);
    }
  }
  return map;
}

/**
 * Map by order: the k-th conv/linear of the model takes the k-th conv/linear of the source
 * (same kind). A bias comes from the source layer itself (fused layouts) or from the bias
 * layer right after it in the file (neon's unfused layout).
 */
function byOrder(layers: SourceLayer[], model: Model): Map<string, SourceEntry> {
  const map = new Map<string, SourceEntry>();
  const weighted = layers.map((l, j) => ({ l, j })).filter(({ l }) => l.kind === 'conv' || l.kind === 'linear');
  const targets = model.layers.filter((l) => l.className === 'Convolution' || l.className === 'Linear');
  const entry = (a: WeightArray, from: SourceLayer): SourceEntry => ({ origin: `${from.name} ${a.name}`, sourceLayer: from.name, array: a });
  targets.forEach((t, k) => {
    const found = weighted[k];
    if (!found) return;
    const { l: src, j } = found;
    const want = t.className === 'Convolution' ? 'conv' : 'linear';
    if (src.kind !== want) {
      throw new TlError(`import by order: model layer '${t.name}' (${t.className}) is paired with source layer '${src.name}' (${src.kind}); the two models differ in structure`);
    }
    const W = src.params.find((a) => a.name === 'W');
    if (W) map.set(`${t.name}\u0000W`, entry(W, src));
    const next = layers[j + 1];
    const b = src.params.find((a) => a.name === 'b') ?? (next?.kind === 'bias' ? next.params[0] : undefined);
    const biasTarget = model.layers[model.layers.indexOf(t) + 1];
    if (b && biasTarget?.className === 'Bias') map.set(`${biasTarget.name}\u0000b`, entry(b, b === next?.params[0] ? next : src));
  });
  return map;
}

/** The lab's import_matching_layers: copy every parameter of an initialized model that the source provides (by aliased name, or by order), all or nothing; returns the report. */
export function importMatchingLayers(source: WeightFile | SourceLayer[], model: Model, opts: ImportOptions = {}): ImportReport {
  const layers = Array.isArray(source) ? source : source.layers;
  const file = Array.isArray(source) ? 'source' : source.path;
  const log = opts.log ?? ((line: string) => console.log(line));
  if (!model.inShape) throw new TlError('importMatchingLayers: initialize the model (model.initialize([C, H, W])) before importing weights');
  const learner = opts.match === 'order' ? null : nameImport(); // the exercise track's seam (name-import.ts)
  if (learner) {
    const r = learner(layers, model);
    log(`${file}: imported ${r.imported.length} layers by name (the import set by setNameImport)`);
    return { ...r, unusedInSource: layers.map((l) => l.name).filter((n) => !model.layer(n)), shapeMismatch: [] };
  }
  const map = opts.match === 'order' ? byOrder(layers, model) : byName(layers);

  const report: ImportReport = { imported: [], notInSource: [], unusedInSource: [], shapeMismatch: [] };
  const used = new Set<string>();
  const copies: (() => void)[] = [];
  const lines: string[] = [];
  const convs = model.layers.filter((l) => l.className === 'Convolution');
  const denses = model.layers.filter((l) => l.className === 'Linear');
  model.layers.forEach((layer: Layer, i) => {
    if (!isParamLayer(layer)) return;
    const found = layer.params().map((p) => ({ p, e: map.get(`${layer.name}\u0000${p.name}`) }));
    if (found.some(({ e }) => !e)) {
      report.notInSource.push(layer.name);
      // neon's "Unable to copy" only where the source has part of the layer; a layer the
      // source has nothing of is new in the target (a new head) and keeps its initialization
      const missing = found.filter(({ e }) => !e).map(({ p }) => p.name);
      lines.push(missing.length === found.length
        ? `New layer # ${i} '${layer.name}' (not in the source model): initialized`
        : `Unable to copy layer # ${i} '${layer.name}' (the source has no ${missing.join(', ')})`);
      return;
    }
    const bad = found.filter(({ p, e }) => !sameShape(p.value.shape, e!.array.shape));
    if (bad.length) {
      for (const { p, e } of bad) {
        const mm = { layer: layer.name, param: p.name, modelShape: [...p.value.shape], sourceShape: [...e!.array.shape], source: e!.origin };
        if (opts.onShapeMismatch !== 'skip') {
          // the bias layer after a conv or dense layer is judged as that layer
          const owner = layer.className === 'Bias' ? model.layers[i - 1] : layer;
          const hint = mismatchHint(mm, { inShape: model.inShape ?? undefined, firstConv: owner === convs[0], firstDense: owner === denses[0], lastDense: owner === denses[denses.length - 1] });
          throw new TlError(`${file}: layer '${layer.name}' ${p.name} has shape ${shapeStr(mm.modelShape)} in the model but ${shapeStr(mm.sourceShape)} in the file ('${mm.source}'); ${hint}`);
        }
        report.shapeMismatch.push(mm);
      }
      const first = bad[0]!;
      lines.push(`Skipped layer # ${i} '${layer.name}' (${first.p.name} has shape ${shapeStr(first.p.value.shape)} in the model but ${shapeStr(first.e!.array.shape)} in the file): initialized`);
      return;
    }
    for (const { p, e } of found) {
      used.add(e!.sourceLayer);
      copies.push(() => p.value.setValues(e!.array.data));
    }
    report.imported.push(layer.name);
    lines.push(`Successfully copied layer # ${i} '${layer.name}'`);
  });
  report.unusedInSource = layers.filter((l) => l.params.length && !used.has(l.name)).map((l) => l.name);
  for (const c of copies) c();
  for (const line of lines) log(line);
  return report;
}
