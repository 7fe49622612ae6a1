// A folder of images dropped onto the page (or chosen with the folder picker): one
// subfolder per class, as `tl-scratch prepare --image_folder` reads it. Each image is decoded
// by the browser (createImageBitmap), drawn gray at 28×28 (the built-in images' size, so the
// CLI's transform pads it to the model's 32×32), and split per class: every 4th image (at
// least one) is a test image. Files the browser cannot decode are listed and skipped.
import { ImageSet } from '../../data/builtin.js';
import type { PageData } from './engine.js';

/** A file with its path relative to the dropped folder's parent: "pets/cat/1.png". */
export interface DroppedFile {
  path: string;
  file: Blob;
}

export interface FolderResult {
  /** The data set; null when the folder cannot be used (see `problem`). */
  data: PageData | null;
  /** Why the folder cannot be used: one message for the page. */
  problem: string | null;
  skipped: { path: string; why: string }[];
  /** Images kept per class. */
  counts: Record<string, number>;
}

const FOLDER_IMAGE_SIZE = 28;

/** Files from a drop: folders read recursively through the entries API. */
export async function filesFromDrop(items: DataTransferItemList): Promise<DroppedFile[]> {
  const out: DroppedFile[] = [];
  const walk = async (entry: FileSystemEntry, path: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      out.push({ path: `${path}${entry.name}`, file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries returns the entries in chunks; an empty chunk ends the folder.
      for (;;) {
        const chunk = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!chunk.length) break;
        for (const e of chunk) await walk(e, `${path}${entry.name}/`);
      }
    }
  };
  const entries = Array.from(items).map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  for (const e of entries) await walk(e, '');
  return out;
}

/** Files from `<input type=file webkitdirectory>`: their webkitRelativePath. */
export function filesFromInput(list: FileList): DroppedFile[] {
  return Array.from(list).map((f) => ({ path: f.webkitRelativePath || f.name, file: f }));
}

/** 28×28 gray bytes of an image, or null when the browser cannot decode it. */
async function decodeGray(file: Blob): Promise<Uint8Array | null> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return null;
  }
  const S = FOLDER_IMAGE_SIZE;
  const canvas = new OffscreenCanvas(S, S);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0, S, S);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, S, S).data;
  const gray = new Uint8Array(S * S);
  // ITU-R BT.601 luma, as src/data/image.ts turns colour into gray.
  for (let p = 0; p < S * S; p++) gray[p] = Math.round(0.299 * rgba[4 * p]! + 0.587 * rgba[4 * p + 1]! + 0.114 * rgba[4 * p + 2]!);
  return gray;
}

/** Decodes and splits a dropped folder; never throws for bad files (they are listed in `skipped`). */
export async function folderData(files: DroppedFile[]): Promise<FolderResult> {
  const skipped: FolderResult['skipped'] = [];
  const byClass = new Map<string, { path: string; pixels: Uint8Array }[]>();
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // One dropped folder: its subfolders are the classes (pets/cat/1.png). Several dropped
  // folders at once (cat/, dog/): each is a class (cat/1.png).
  const firsts = new Set(sorted.map((f) => f.path.split('/').filter(Boolean)[0]));
  const classAt = firsts.size === 1 ? 1 : 0;
  for (const f of sorted) {
    const parts = f.path.split('/').filter(Boolean);
    if (parts[parts.length - 1]!.startsWith('.')) continue; // hidden files (.DS_Store, .keep)
    // A file right inside the dropped folder (or dropped alone) has no class.
    if (parts.length < classAt + 2) {
      skipped.push({ path: f.path, why: 'not inside a class subfolder' });
      continue;
    }
    const pixels = await decodeGray(f.file);
    if (!pixels) {
      skipped.push({ path: f.path, why: 'the browser cannot decode it as an image' });
      continue;
    }
    const cls = parts[classAt]!;
    if (!byClass.has(cls)) byClass.set(cls, []);
    byClass.get(cls)!.push({ path: f.path, pixels });
  }
  const counts: Record<string, number> = {};
  for (const [c, v] of byClass) counts[c] = v.length;
  const classNames = [...byClass.keys()].sort();
  const need = 'a folder with one subfolder per class (at least two classes), each with at least two images the browser can decode (PNG, JPEG, GIF, WebP, BMP): one or more to train on, and every 4th as a test image';
  if (files.length === 0) return { data: null, problem: `the dropped folder is empty; drop ${need}`, skipped, counts };
  if (classNames.length < 2) {
    const what = classNames.length === 0 ? 'no class subfolder with a decodable image' : `only one class (${classNames[0]})`;
    return { data: null, problem: `the folder has ${what}; transfer learning here needs ${need}`, skipped, counts };
  }
  const few = classNames.filter((c) => byClass.get(c)!.length < 2);
  if (few.length) return { data: null, problem: `class${few.length > 1 ? 'es' : ''} ${few.join(', ')} ha${few.length > 1 ? 've' : 's'} fewer than two images; the page needs ${need}`, skipped, counts };
  const F = FOLDER_IMAGE_SIZE * FOLDER_IMAGE_SIZE;
  const split = { train: [] as { c: number; px: Uint8Array }[], test: [] as { c: number; px: Uint8Array }[] };
  classNames.forEach((c, ci) => {
    const imgs = byClass.get(c)!;
    imgs.forEach((img, k) => {
      const toTest = k % 4 === 3 || (imgs.length < 4 && k === imgs.length - 1);
      (toTest ? split.test : split.train).push({ c: ci, px: img.pixels });
    });
  });
  const set = (rows: { c: number; px: Uint8Array }[], name: string) => {
    const images = new Uint8Array(rows.length * F);
    rows.forEach((r, i) => images.set(r.px, i * F));
    return new ImageSet(images, [1, FOLDER_IMAGE_SIZE, FOLDER_IMAGE_SIZE], Int32Array.from(rows, (r) => r.c), classNames.length, classNames, name);
  };
  const root = classAt === 1 ? sorted[0]!.path.split('/')[0]! : classNames.join(', ');
  return {
    data: { name: `dropped folder ${root}`, classNames, train: set(split.train, `${root} train`), test: set(split.test, `${root} test`) },
    problem: null,
    skipped,
    counts,
  };
}
