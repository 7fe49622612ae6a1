// One image file made into one row of `prepare`'s output, described by plain data (a RowJob)
// so that a worker thread can do it: read, decode, crop to the face box (IMDB-WIKI), resize
// the short side and center-crop, channel-major bytes (and their per-channel sums).
import { readFileSync } from 'node:fs';
import { decodeRgba, faceRegion, type ChannelOrder, type JpegDecoder } from '../image.js';
import { RgbaResizer, type RowWithSums } from '../resize-rgba.js';
import { Skip } from './items.js';

export interface RowJob {
  path: string;
  /** Output height = width. */
  size: number;
  channels: ChannelOrder;
  /** IMDB-WIKI: the face box x1, y1, x2, y2 in pixels, and the margin around it (a fraction of its size on each side). */
  box?: number[];
  margin?: number;
}

function readImageFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new Skip('missing file', `${path}: no such file`);
    throw new Skip('unreadable', `${path}: ${err.message}`);
  }
}

function decodeOrSkip(buf: Uint8Array, path: string, jpeg?: JpegDecoder) {
  try {
    return decodeRgba(buf, path, jpeg);
  } catch (e) {
    throw new Skip('undecodable', (e as Error).message);
  }
}

let shared: RgbaResizer | undefined;

/**
 * The row of `job` (C·size·size bytes, written into `into` when given) and its per-channel
 * sums, or a thrown Skip saying why there is none. `resizer` (one per thread) defaults to
 * one this module keeps.
 */
export function makeRow(job: RowJob, jpeg?: JpegDecoder, into?: Uint8Array, resizer: RgbaResizer = (shared ??= new RgbaResizer())): RowWithSums {
  const img = decodeOrSkip(readImageFile(job.path), job.path, jpeg);
  let region;
  if (job.box) {
    region = faceRegion(job.box, job.margin ?? 0, img.width, img.height);
    if (!region) throw new Skip('bad face box', `${job.path}: face box [${job.box.join(' ')}] lies outside the ${img.width}x${img.height} image`);
  }
  return resizer.toRow(img, job.size, job.channels, region ?? undefined, into);
}
