// `train --data_root DIR` where DIR is a folder of class sub-folders of images (as
// torchvision's ImageFolder reads): prepared once with `prepare`'s own code into DIR/.tl-cache
// (train.h5, test.h5 in neon's format, and source.json), and reused while the folder is
// unchanged. The folder's fingerprint is every class file's name, size and modification
// time, kept with the prepare options in source.json; a change of either prepares it again. prepare ignores
// names starting with '.', so the cache is never read as a class.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { prepare, PREPARE_DEFAULTS } from '../data/prepare/index.js';
import type { ChannelOrder } from '../data/image.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { CountProgress } from './progress.js';
import { FORMAT_NAMES, isTlCheckpoint } from '../formats/index.js';
import type { WeightFile } from '../formats/types.js';
import { readCheckpointHeader } from '../models/checkpoint.js';
import { labName } from '../transfer/aliases.js';

/** The cache folder inside an image folder. */
const CACHE_DIR = '.tl-cache';
const FINGERPRINT_FILE = 'source.json';

/** True when `root` is a folder of class sub-folders rather than a prepared one (train.h5). */
export function isImageFolder(root: string): boolean {
  if (root.startsWith('builtin:') || !existsSync(root) || !statSync(root).isDirectory()) return false;
  if (existsSync(join(root, 'train.h5')) || existsSync(join(root, 'test.h5'))) return false;
  return readdirSync(root, { withFileTypes: true }).some((d) => d.isDirectory() && !d.name.startsWith('.'));
}

export interface FolderOptions {
  size?: number;
  channels?: ChannelOrder;
  progress: boolean;
  log: (line: string) => void;
}

/** The class files' names, sizes and modification times, hashed. */
function fingerprint(root: string): string {
  const h = createHash('sha256');
  const classes = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  for (const c of classes) {
    for (const name of readdirSync(join(root, c)).filter((n) => !n.startsWith('.')).sort()) {
      const s = statSync(join(root, c, name));
      h.update(`${c}/${name}\t${s.size}\t${s.mtimeMs}\n`);
    }
  }
  return h.digest('hex');
}

interface Stored {
  files: string;
  settings: { size: number; channels: string; rngSeed: number; testFraction: number };
}

function readStored(path: string): Stored | null {
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as Stored;
    return typeof j.files === 'string' && j.settings && typeof j.settings.size === 'number' ? j : null;
  } catch {
    return null;
  }
}

/**
 * The prepared folder (train.h5, test.h5) for an image folder: its cache when the folder is
 * unchanged, else prepared again; one line says which, and where.
 */
export async function preparedImageFolder(root: string, o: FolderOptions): Promise<string> {
  const settings = { size: o.size ?? PREPARE_DEFAULTS.size, channels: o.channels ?? PREPARE_DEFAULTS.channels, rngSeed: PREPARE_DEFAULTS.rngSeed, testFraction: PREPARE_DEFAULTS.testFraction };
  const cache = join(root, CACHE_DIR);
  const print = join(cache, FINGERPRINT_FILE);
  const files = fingerprint(root);
  const what = (t: Stored['settings']) => `${t.size}×${t.size} ${t.channels}`;
  const stored = existsSync(print) ? readStored(print) : null;
  const sameSettings = !!stored && JSON.stringify(stored.settings) === JSON.stringify(settings);
  if (stored && sameSettings && stored.files === files && existsSync(join(cache, 'train.h5')) && existsSync(join(cache, 'test.h5'))) {
    o.log(`data: image folder ${root} is unchanged: reusing ${cache} (${what(settings)}; delete it to prepare again)`);
    return cache;
  }
  const why = !stored ? 'is not prepared yet' : !sameSettings ? `was prepared at ${what(stored.settings)}${stored.files === files ? '' : ' and has changed'}` : 'has changed';
  o.log(`data: image folder ${root} ${why}: preparing it into ${cache} (${what(settings)}, ${Math.round(100 * settings.testFraction)}% of each class for testing; reused while the folder is unchanged)`);
  rmSync(print, { force: true });
  const bar = o.progress ? new CountProgress('prepare', 'images') : undefined;
  const report = await prepare({ imageFolder: root, out: cache, size: settings.size, channels: settings.channels, rngSeed: settings.rngSeed, testFraction: settings.testFraction, onProgress: bar && ((p) => bar.update(p.done, p.total)) });
  const skipped = report.skippedItems.length;
  o.log(`prepared ${report.kept} images of ${report.classNames.length} classes (${report.classNames.join(', ')})${skipped ? `; skipped ${skipped}, listed in ${report.skippedFile}` : ''}`);
  // written last: a run stopped while preparing prepares again
  writeFileAtomicSync(print, `${JSON.stringify({ files, settings } satisfies Stored)}\n`);
  return cache;
}

/**
 * The size and channels an image folder is prepared at when --image_size/--channels are not
 * typed: the input of the model the run starts from (the checkpoint it resumes, else a
 * checkpoint given as source model; of other weight files only the channels, which the
 * first conv's W [K, C, 3, 3] says), so that its weights fit; with the line that says so.
 */
export async function folderSettingsFrom(modelFile: string | undefined, source: WeightFile | undefined, typed: { size?: number; channels?: ChannelOrder }): Promise<{ size?: number; channels?: ChannelOrder; line?: string }> {
  let size: number | undefined, channels: ChannelOrder | undefined, from = '';
  const fromCheckpoint = async (path: string) => {
    const h = await readCheckpointHeader(path);
    size = h.inputShape[1];
    const recorded = h.info?.channels as ChannelOrder | undefined;
    channels = recorded && ['rgb', 'bgr', 'gray'].includes(recorded) ? recorded : h.inputShape[0] === 1 ? 'gray' : undefined;
  };
  if (modelFile && (await isTlCheckpoint(modelFile))) {
    await fromCheckpoint(modelFile);
    from = `the checkpoint ${modelFile}`;
  } else if (source?.format === FORMAT_NAMES.checkpoint) {
    await fromCheckpoint(source.path);
    from = `the source model ${source.path}`;
  } else if (source) {
    const W = source.layers.find((l) => labName(l.name) === 'conv1_1')?.params.find((a) => a.name === 'W');
    if (W?.shape.length === 4 && W.shape[1] === 1) channels = 'gray';
    from = `the source model ${source.path}`;
  }
  const out = { size: typed.size ?? size, channels: typed.channels ?? channels };
  const said = [typed.size === undefined && size !== undefined ? `--image_size ${size}` : '', typed.channels === undefined && channels ? `--channels ${channels}` : ''].filter(Boolean);
  return said.length ? { ...out, line: `data: ${said.join(' and ')} from ${from} (its input); type the flag to override` } : out;
}
