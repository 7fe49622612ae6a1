// `prepare`'s image-folder source: ROOT/<class>/*.{jpg,jpeg,png}, classes the sorted folder
// names, each image resized on its short side and center-cropped.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { TlError } from '../../util/errors.js';
import type { ChannelOrder } from '../image.js';
import type { Item, SourceItems, Tally } from './items.js';

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png']);

export function folderSource(root: string, size: number, channels: ChannelOrder, tally: Tally): SourceItems {
  if (!existsSync(root)) throw new TlError(`image folder ${root}: no such folder`);
  if (!statSync(root).isDirectory()) throw new TlError(`image folder ${root}: not a folder; expected ROOT/<class>/*.jpg|png`);
  const classNames = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  if (classNames.length === 0) throw new TlError(`image folder ${root}: no class folders; expected ROOT/<class>/*.jpg|png`);
  if (classNames.length === 1) {
    throw new TlError(`image folder ${root}: only one class folder ('${classNames[0]}'); a classifier needs at least two: put each class's images in a folder of its own, ${root}/<class>/*.jpg|png`);
  }
  const items: Item[] = [];
  let considered = 0;
  classNames.forEach((cls, label) => {
    const dir = join(root, cls);
    let n = 0;
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      if (!IMAGE_EXT.has(extname(e.name).toLowerCase())) {
        if (e.isFile()) {
          considered++;
          tally.add(path, 'not an image file', `${path}: not .jpg, .jpeg or .png`);
        }
        continue;
      }
      considered++;
      n++;
      items.push({ label, name: path, job: { path, size, channels } });
    }
    if (n === 0) throw new TlError(`image folder ${dir}: class '${cls}' has no .jpg, .jpeg or .png images`);
  });
  return { classNames, items, considered };
}
