// `train --data_root DIR` where DIR is a folder of class sub-folders of images (as
// torchvision's ImageFolder reads): prepared once with `prepare`'s own code into DIR/.tl-cache
// (train.h5, test.h5 in neon's format, and source.json), and reused while the folder is
// unchanged. The folder's fingerprint is every class file's name, size and modification
// time, with the prepare options; any change prepares the cache again. prepare ignores
// names starting with '.', so the cache is never read as a class.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { prepare, PREPARE_DEFAULTS } from '../data/prepare/index.js';
import type { ChannelOrder } from '../data/image.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { CountProgress } from './progress.js';

/** The cache folder inside an image folder. */
export const CACHE_DIR = '.tl-cache';
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
  rngSeed?: number;
  progress: boolean;
  log: (line: string) => void;
}

/** The class files' names, sizes and modification times, and the prepare options, hashed. */
function fingerprint(root: string, opts: object): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(opts));
  const classes = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  for (const c of classes) {
    for (const name of readdirSync(join(root, c)).filter((n) => !n.startsWith('.')).sort()) {
      const s = statSync(join(root, c, name));
      h.update(`${c}/${name}\t${s.size}\t${s.mtimeMs}\n`);
    }
  }
  return h.digest('hex');
}

/**
 * The prepared folder (train.h5, test.h5) for an image folder: its cache when the folder is
 * unchanged, else prepared again; one line says which, and where.
 */
export async function preparedImageFolder(root: string, o: FolderOptions): Promise<string> {
  const settings = { size: o.size ?? PREPARE_DEFAULTS.size, channels: o.channels ?? PREPARE_DEFAULTS.channels, rngSeed: o.rngSeed ?? PREPARE_DEFAULTS.rngSeed, testFraction: PREPARE_DEFAULTS.testFraction };
  const cache = join(root, CACHE_DIR);
  const print = join(cache, FINGERPRINT_FILE);
  const key = fingerprint(root, settings);
  const what = `${settings.size}×${settings.size} ${settings.channels}`;
  const stored = existsSync(print) ? readFileSync(print, 'utf8').trim() : '';
  if (stored === key && existsSync(join(cache, 'train.h5')) && existsSync(join(cache, 'test.h5'))) {
    o.log(`data: image folder ${root} is unchanged: reusing ${cache} (${what}; delete it to prepare again)`);
    return cache;
  }
  o.log(`data: image folder ${root} ${stored ? 'has changed' : 'is not prepared yet'}: preparing it into ${cache} (${what}, ${Math.round(100 * settings.testFraction)}% of each class for testing; reused while the folder is unchanged)`);
  rmSync(print, { force: true });
  const bar = o.progress ? new CountProgress('prepare', 'images') : undefined;
  const report = await prepare({ imageFolder: root, out: cache, size: settings.size, channels: settings.channels, rngSeed: settings.rngSeed, testFraction: settings.testFraction, onProgress: bar && ((p) => bar.update(p.done, p.total)) });
  const skipped = report.skippedItems.length;
  o.log(`prepared ${report.kept} images of ${report.classNames.length} classes (${report.classNames.join(', ')})${skipped ? `; skipped ${skipped}, listed in ${report.skippedFile}` : ''}`);
  // written last: a run stopped while preparing prepares again
  writeFileAtomicSync(print, `${key}\n`);
  return cache;
}
