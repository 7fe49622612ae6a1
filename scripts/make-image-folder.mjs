#!/usr/bin/env node
// An image folder as a user's own data would be: OUT/<class>/<n>.png, from the Fashion-MNIST
// T-shirt/top and Shirt images shipped in data/ (28×28 gray; the official training split),
// N per class in file order. The README's "Your own images" walk starts from it.
//
//   npm run build && node scripts/make-image-folder.mjs my_images [N]   (N default 50)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { loadBuiltin } from '../dist/src/data/builtin.js';

const [out, perClassArg] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/make-image-folder.mjs OUT [N per class]');
  process.exit(2);
}
const perClass = Number(perClassArg ?? 50);
if (!Number.isInteger(perClass) || perClass < 1) {
  console.error(`N per class must be an integer ≥ 1, got '${perClassArg}'`);
  process.exit(2);
}
const set = loadBuiltin('fashion-tshirt-shirt', 'train');
const [, H, W] = set.lshape;
const folders = ['tshirt', 'shirt']; // set.classNames, as folder names
const written = folders.map(() => 0);
for (let i = 0; i < set.n && written.some((n) => n < perClass); i++) {
  const c = set.labels[i];
  if (written[c] >= perClass) continue;
  const png = new PNG({ width: W, height: H });
  for (let p = 0; p < H * W; p++) {
    const v = set.images[i * H * W + p];
    png.data.set([v, v, v, 255], 4 * p);
  }
  mkdirSync(join(out, folders[c]), { recursive: true });
  writeFileSync(join(out, folders[c], `${String(written[c]).padStart(4, '0')}.png`), PNG.sync.write(png));
  written[c]++;
}
console.log(`${out}: ${folders.map((f, c) => `${written[c]} images in ${f}/`).join(', ')}`);
