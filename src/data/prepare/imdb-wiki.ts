// `prepare`'s IMDB-WIKI source: wiki.mat (or imdb.mat) and the images named in its
// full_path, labelled by gender (0 female, 1 male), keeping one confident face per image
// and cropping to its box with a margin.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TlError } from '../../util/errors.js';
import type { ChannelOrder } from '../image.js';
import { cellStrings, numbersOf, readMat, type MatStruct } from '../mat5.js';
import type { Item, SourceItems, Tally } from './items.js';

export function imdbWikiSource(
  dir: string,
  o: { size: number; channels: ChannelOrder; minFaceScore: number; faceMargin: number },
  tally: Tally,
): SourceItems {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new TlError(`IMDB-WIKI folder ${dir}: no such folder`);
  const matPath = ['wiki.mat', 'imdb.mat'].map((f) => join(dir, f)).find((p) => existsSync(p));
  if (!matPath) throw new TlError(`IMDB-WIKI folder ${dir}: neither wiki.mat nor imdb.mat is there`);
  const vars = readMat(matPath);
  const top = vars['wiki'] ?? vars['imdb'] ?? Object.values(vars).find((v) => v.kind === 'struct');
  if (!top || top.kind !== 'struct' || top.elements.length !== 1) {
    throw new TlError(`${matPath}: expected a 1x1 struct variable 'wiki' or 'imdb'`);
  }
  const s = top as MatStruct;
  const field = (f: string) => {
    const v = s.elements[0]![f];
    if (!v) throw new TlError(`${matPath}: the struct has no field '${f}' (fields: ${s.fields.join(', ')})`);
    return v;
  };
  const paths = cellStrings(field('full_path'), `${matPath}: full_path`);
  const gender = numbersOf(field('gender'), `${matPath}: gender`);
  const score = numbersOf(field('face_score'), `${matPath}: face_score`);
  const second = numbersOf(field('second_face_score'), `${matPath}: second_face_score`);
  const locV = field('face_location');
  if (locV.kind !== 'cell') throw new TlError(`${matPath}: face_location must be a cell array of [x1 y1 x2 y2]`);
  const n = paths.length;
  for (const [name, arr] of [['gender', gender], ['face_score', score], ['second_face_score', second], ['face_location', locV.items]] as const) {
    if (arr.length !== n) throw new TlError(`${matPath}: ${name} has ${arr.length} entries but full_path has ${n}`);
  }
  const items: Item[] = [];
  for (let i = 0; i < n; i++) {
    const rel = paths[i]!;
    const path = join(dir, rel);
    const g = gender[i]!;
    if (!(g === 0 || g === 1)) {
      tally.add(path, 'gender unknown', `row ${i}: gender ${g}`);
      continue;
    }
    if (!Number.isFinite(score[i]!)) {
      tally.add(path, 'no face', `row ${i}: face_score ${score[i]}`);
      continue;
    }
    if (!(score[i]! > o.minFaceScore)) {
      tally.add(path, 'face score too low', `row ${i}: face_score ${score[i]} ≤ ${o.minFaceScore}`);
      continue;
    }
    if (!Number.isNaN(second[i]!)) {
      tally.add(path, 'second face', `row ${i}: second_face_score ${second[i]}`);
      continue;
    }
    const loc = locV.items[i]!;
    const box = loc.kind === 'numeric' ? loc.data : new Float64Array(0);
    if (box.length !== 4) {
      tally.add(path, 'bad face box', `row ${i}: face_location has ${box.length} values, expected 4`);
      continue;
    }
    items.push({ label: g, name: path, job: { path, size: o.size, channels: o.channels, box: Array.from(box), margin: o.faceMargin } });
  }
  return { classNames: ['female', 'male'], items, considered: n };
}
