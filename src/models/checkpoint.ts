// Name-keyed checkpoints in HDF5 (readable by h5py):
//   /                     attrs: format, tl_scratch_version, epoch_index, rng_state (4 × uint32),
//                                input_shape, optimizer_state (JSON), cost (JSON)
//   /layers               attr layer_order (JSON list of names, model order)
//   /layers/<name>        attrs: type, config (JSON); datasets W and/or b, float32, our layout
//   /layers/<name>/states datasets <param>_<i>: optimizer state arrays (momentum velocities)
//   /                     attr input_info (JSON: preprocess, channels, class_names, model, training) and
//                         dataset input_mean (the data's mean) when set with setInputInfo;
//                         older checkpoints have neither (their input counts as 'neon')
// Writing goes to a temporary file renamed over the target, so a crash mid-write leaves
// the previous checkpoint intact. Loading checks everything before changing the model.
import { openH5, type H5Dataset, type H5File, type H5Group } from '../formats/h5.js';
import { rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../autograd/ops/create.js';
import { sameShape, shapeStr } from '../tensor/shape.js';
import { writeAtomic } from '../util/atomic.js';
import { TlError } from '../util/errors.js';
import { countNonFinite, describeNonFinite } from '../util/finite.js';
import type { Model } from './model.js';
import type { SourceLayer, WeightFile } from '../formats/types.js';

const CHECKPOINT_FORMAT = 'tl-scratch checkpoint';
const CHECKPOINT_VERSION = '1';

/** Options of {@link saveCheckpoint}. */
export interface SaveOptions {
  /** Also save optimizer states (velocities) and the optimizer's own state. Default true. */
  keepStates?: boolean;
}

/**
 * How the model's inputs were made (src/data/preprocess.ts), the class names and the model
 * flags: saved with every checkpoint of the model so that eval and predict can reuse them.
 */
export interface InputInfo {
  preprocess: string;
  channels: string;
  /** The data's own mean (0..255), C or C·H·W values; what 'neon' preprocessing subtracts. */
  mean: Float32Array | null;
  classNames?: string[];
  model?: Record<string, unknown>;
  /** How train trained it (experiment, imported layers, optimizer settings), so that a run resumes from the checkpoint alone. */
  training?: Record<string, unknown>;
}

const inputInfos = new WeakMap<Model, InputInfo>();

/** Attach input facts to a model; its checkpoints will carry them. */
export function setInputInfo(model: Model, info: InputInfo): void {
  inputInfos.set(model, info);
}

export interface CheckpointHeader {
  inputShape: number[];
  /** null for checkpoints written before input_info existed. */
  info: InputInfo | null;
  /** Rows of the last layer with a weight (the class count of a classifier), if any. */
  nout?: number;
}

/** The input shape, input facts and output width of a checkpoint, without loading its weights. */
export async function readCheckpointHeader(path: string): Promise<CheckpointHeader> {
  const f = await openH5(path, 'r', 'checkpoint');
  try {
    if (!isCheckpointFile(f)) throw new TlError(`checkpoint ${path}: an HDF5 file, but not a tl-scratch checkpoint`);
    const inputShape = JSON.parse(String(attr(f, 'input_shape') ?? '[]')) as number[];
    let info: InputInfo | null = null;
    const raw = attr(f, 'input_info');
    if (raw !== undefined) {
      const j = JSON.parse(String(raw)) as Omit<InputInfo, 'mean'>;
      const m = f.keys().includes('input_mean') ? readArray(f.get('input_mean') as H5Dataset, `checkpoint ${path}: input_mean`).data : null;
      info = { ...j, mean: m };
    }
    let nout: number | undefined;
    const layers = f.get('layers') as H5Group | null;
    if (layers) {
      const order = JSON.parse(String(attr(layers, 'layer_order') ?? '[]')) as string[];
      for (const name of order) {
        const g = layers.get(name) as H5Group | null;
        const w = g?.keys().includes('W') ? (g.get('W') as H5Dataset) : null;
        if (w?.shape?.length) nout = w.shape[0];
      }
    }
    return { inputShape, info, nout };
  } catch (e) {
    if (e instanceof TlError) throw e;
    throw new TlError(`checkpoint ${path}: cannot read (${(e as Error).message}); the file may be truncated or damaged`);
  } finally {
    f.close();
  }
}

/** Save a name-keyed HDF5 checkpoint (weights, layer types and configs, input shape, optimizer states), atomically. */
export async function saveCheckpoint(model: Model, path: string, opts: SaveOptions = {}): Promise<void> {
  const keepStates = opts.keepStates ?? true;
  await writeAtomic(path, async (tmp) => {
    const f = await openH5(tmp, 'w', 'checkpoint');
    try {
      f.create_attribute('format', CHECKPOINT_FORMAT);
      f.create_attribute('tl_scratch_version', CHECKPOINT_VERSION);
      f.create_attribute('epoch_index', model.epochIndex);
      f.create_attribute('rng_state', JSON.stringify(rng.getState()));
      f.create_attribute('input_shape', JSON.stringify(model.inShape ?? []));
      if (model.cost) f.create_attribute('cost', JSON.stringify(model.cost.describe()));
      if (keepStates && model.optimizer?.getState) f.create_attribute('optimizer_state', JSON.stringify(model.optimizer.getState() ?? null));
      if (model.optimizer?.describe) f.create_attribute('optimizer', JSON.stringify(model.optimizer.describe()));
      const info = inputInfos.get(model);
      if (info) {
        const { mean, ...rest } = info;
        f.create_attribute('input_info', JSON.stringify(rest));
        if (mean) f.create_dataset({ name: 'input_mean', data: Float32Array.from(mean), shape: [mean.length], dtype: '<f' });
      }
      const layers = f.create_group('layers');
      layers.create_attribute('layer_order', JSON.stringify(model.layers.map((l) => l.name)));
      for (const l of model.layers) {
        const d = l.describe();
        const g = layers.create_group(l.name);
        g.create_attribute('type', d.type);
        g.create_attribute('config', JSON.stringify(d.config));
        const params = l.params();
        for (const p of params) writeArray(g, p.name, p.value, `layer '${l.name}' ${p.name}`, path);
        if (keepStates && params.some((p) => p.states.length)) {
          const sg = g.create_group('states');
          for (const p of params) p.states.forEach((s, i) => writeArray(sg, `${p.name}_${i}`, s, `layer '${l.name}' ${p.name} optimizer state ${i}`, path));
        }
      }
    } finally {
      f.close();
    }
  });
}

/**
 * Write one array; TlError when it holds NaN or ±Inf (the temporary file is then removed by
 * writeAtomic and the checkpoint at `path`, if any, stays as it was).
 */
function writeArray(g: H5Group, name: string, t: Tensor, what: string, path: string): void {
  const data = Float32Array.from(t.toHost());
  const bad = countNonFinite(data);
  if (bad) throw new TlError(`checkpoint ${path} not written: ${what} has ${describeNonFinite(bad)} among its ${data.length} values; training diverged: lower the learning rate (--lr); a checkpoint already there is unchanged`);
  g.create_dataset({ name, data, shape: [...t.shape], dtype: '<f' });
}

/** An array of a checkpoint; TlError naming it (`where`: file, layer, array) when it holds NaN or ±Inf. */
function readArray(ds: H5Dataset, where: string): { shape: number[]; data: Float32Array } {
  const raw = ds.value;
  if (!(raw instanceof Float32Array || raw instanceof Float64Array)) throw new TlError(`${where}: expected a float array`);
  const data = raw instanceof Float32Array ? raw : Float32Array.from(raw);
  const bad = countNonFinite(data);
  if (bad) throw new TlError(`${where}: ${describeNonFinite(bad)} among its ${data.length} values (first at index ${bad.first}); the file is damaged or was written from a diverged run: use an earlier checkpoint`);
  return { shape: [...(ds.shape ?? [])], data };
}


function attr(f: H5File | H5Group, name: string): unknown {
  return f.attrs[name]?.value;
}

export function isCheckpointFile(f: H5File): boolean {
  return attr(f, 'format') === CHECKPOINT_FORMAT;
}

/** Options of {@link loadCheckpoint}. */
export interface LoadOptions {
  /** Restore optimizer states, epoch index and generator state (resume). Default true. */
  loadStates?: boolean;
}

/**
 * Load parameters (and, with loadStates, velocities, epoch index and the generator state)
 * into a model already initialized with the checkpoint's input shape. All or nothing:
 * every layer is checked before anything is copied.
 */
export async function loadCheckpoint(model: Model, path: string, opts: LoadOptions = {}): Promise<void> {
  const loadStates = opts.loadStates ?? true;
  const f = await openH5(path, 'r', 'checkpoint');
  try {
    readCheckpointInto(model, f, path, loadStates);
  } catch (e) {
    if (e instanceof TlError) throw e;
    throw new TlError(`checkpoint ${path}: cannot read (${(e as Error).message}); the file may be truncated or damaged`);
  } finally {
    f.close();
  }
}

function readCheckpointInto(model: Model, f: H5File, path: string, loadStates: boolean): void {
  {
    if (!isCheckpointFile(f)) throw new TlError(`checkpoint ${path}: an HDF5 file, but not a tl-scratch checkpoint (no 'format' attribute); to take weights from other files use --model_file with an importable format`);
    const inShape = JSON.parse(String(attr(f, 'input_shape') ?? '[]')) as number[];
    if (inShape.length) model.initialize(inShape);
    const layers = f.get('layers') as H5Group | null;
    if (!layers) throw new TlError(`checkpoint ${path}: no 'layers' group; the file is damaged`);
    const fileNames = new Set(layers.keys());
    const copies: (() => void)[] = [];
    for (const l of model.layers) {
      const params = l.params();
      if (!params.length) continue;
      if (!fileNames.has(l.name)) throw new TlError(`checkpoint ${path}: has no layer '${l.name}' (${l.className}); it holds ${[...fileNames].join(', ') || 'no layers'}`);
      const g = layers.get(l.name) as H5Group;
      for (const p of params) {
        const ds = g.get(p.name) as H5Dataset | null;
        if (!ds) throw new TlError(`checkpoint ${path}: layer '${l.name}' has no array '${p.name}'`);
        const a = readArray(ds, `checkpoint ${path}: layer '${l.name}' ${p.name}`);
        if (!sameShape(a.shape, p.value.shape)) {
          throw new TlError(`checkpoint ${path}: layer '${l.name}' ${p.name} has shape ${shapeStr(a.shape)} in the file but ${shapeStr(p.value.shape)} in the model (different width, fc size, image size or class count?)`);
        }
        copies.push(() => p.value.setValues(a.data));
        if (loadStates) {
          const sg = g.get('states') as H5Group | null;
          const states: Tensor[] = [];
          for (let i = 0; sg?.keys().includes(`${p.name}_${i}`); i++) {
            const s = readArray(sg.get(`${p.name}_${i}`) as H5Dataset, `checkpoint ${path}: layer '${l.name}' state ${i}`);
            if (!sameShape(s.shape, p.value.shape)) throw new TlError(`checkpoint ${path}: layer '${l.name}' optimizer state has shape ${shapeStr(s.shape)}, expected ${shapeStr(p.value.shape)}`);
            states.push(tensor(Float32Array.from(s.data), s.shape, { backend: p.value.backend }));
          }
          copies.push(() => (p.states = states));
        }
      }
      fileNames.delete(l.name);
    }
    for (const name of fileNames) {
      const g = layers.get(name) as H5Group;
      if ((g.keys() as string[]).some((k) => k !== 'states')) {
        throw new TlError(`checkpoint ${path}: layer '${name}' is in the file but not in the model; was it saved from a different model (--model, head names)?`);
      }
    }
    let epochIndex = model.epochIndex;
    let rngState: number[] | null = null;
    let optState: unknown;
    if (loadStates) {
      epochIndex = Number(attr(f, 'epoch_index') ?? 0);
      rngState = JSON.parse(String(attr(f, 'rng_state') ?? 'null')) as number[] | null;
      const os = attr(f, 'optimizer_state');
      optState = os === undefined ? undefined : JSON.parse(String(os));
    }
    for (const c of copies) c();
    if (loadStates) {
      model.epochIndex = epochIndex;
      if (rngState) rng.setState(rngState);
      // Applied by fit() to whichever optimizer it is given (neon also resumes with the
      // optimizer the script passes to fit).
      model.pendingOptimizerState = optState;
    }
  }
}

/** A checkpoint's parameters as a weight file, so that `--source_model ckpt.h5` imports by name. */
export async function readCheckpointWeights(path: string): Promise<WeightFile> {
  const f = await openH5(path, 'r', 'checkpoint');
  try {
    if (!isCheckpointFile(f)) throw new TlError(`${path}: an HDF5 file, but not a tl-scratch checkpoint`);
    const layers = f.get('layers') as H5Group | null;
    if (!layers) throw new TlError(`checkpoint ${path}: no 'layers' group; the file is damaged`);
    const order = JSON.parse(String(attr(layers, 'layer_order') ?? '[]')) as string[];
    const kinds: Record<string, SourceLayer['kind']> = { Convolution: 'conv', Linear: 'linear', Bias: 'bias' };
    const out: WeightFile = { path, format: CHECKPOINT_FORMAT, layers: [], notes: [], arrays: [] };
    for (const name of order.length ? order : layers.keys()) {
      const g = layers.get(name) as H5Group | null;
      if (!g) continue;
      const params = g.keys().filter((k) => k !== 'states').map((k) => {
        const a = readArray(g.get(k) as H5Dataset, `checkpoint ${path}: layer '${name}' ${k}`);
        out.arrays.push({ name: `${name}/${k}`, shape: a.shape, dtype: 'float32' });
        return { name: k, shape: a.shape, dtype: 'float32', data: a.data };
      });
      if (params.length) out.layers.push({ name, kind: kinds[String(attr(g, 'type'))] ?? 'other', params, sourceType: String(attr(g, 'type')) });
    }
    return out;
  } catch (e) {
    if (e instanceof TlError) throw e;
    throw new TlError(`checkpoint ${path}: cannot read (${(e as Error).message}); the file may be truncated or damaged`);
  } finally {
    f.close();
  }
}

/**
 * The optimizer description a checkpoint stores (its configuration: type, learning rate,
 * schedule, ...), or null when the file has none; for resuming with the same schedule.
 */
export async function readCheckpointOptimizer(path: string): Promise<Record<string, unknown> | null> {
  const f = await openH5(path, 'r', 'checkpoint');
  try {
    if (!isCheckpointFile(f)) return null;
    const raw = attr(f, 'optimizer');
    if (raw === undefined || raw === null) return null;
    const d = JSON.parse(String(raw)) as unknown;
    return d !== null && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : null;
  } catch (e) {
    if (e instanceof TlError) throw e;
    throw new TlError(`checkpoint ${path}: cannot read its optimizer (${(e as Error).message}); the file may be damaged`);
  } finally {
    f.close();
  }
}
