// Issue 26, point 1: `prepare` at scale. 2,000 JPEG face-like crops of about 250×250 (an
// oval face with eyes and a mouth over a textured background, blurred and encoded at quality
// 90 as IMDB-WIKI's crops are), made once by Debian's Pillow, or by jpeg-js where Pillow is
// missing, and cached in the temporary folder. Then, in the same run:
// - `prepare --image_folder` on them at 224² with 1 and with 2 workers (decode, resize,
//   write train.h5/test.h5), against Pillow's decode + bilinear resize to 224² of the same
//   files in one process (Debian's python3-pil on /usr/bin/python3; no file written), as
//   wall rate and as CPU time per image (the steadier figure on a shared machine), with the
//   share of it the main thread spent (receiving rows, shards, the HDF5 files);
// - where the CPU time of one image goes, one thread, stages alternated in rounds on the
//   first 300 files: the decode to RGBA, the resize to the 224² row by the WebAssembly SIMD
//   kernel prepare uses and by the JavaScript reference (with its RGBA to RGB pass), against
//   Pillow's bilinear resize alone of the decoded images;
// - the JPEG decoders alone, one thread, on the first 300 files: jpeg-js (pure JS, the
//   fallback), @jsquash/jpeg (libjpeg-turbo/MozJPEG in WebAssembly, the one prepare uses)
//   and sharp (libvips, native, Node only; measured only when installed: it is no
//   dependency), against Pillow's decode alone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { decode as jpegJsDecode, encode as jpegJsEncode } from 'jpeg-js';
import { performance } from 'node:perf_hooks';
import { decodeRgba } from '../src/data/image.js';
import { prepare } from '../src/data/prepare/index.js';
import { loadWasmJpegDecoder } from '../src/data/jpeg-wasm.js';
import { RgbaResizer, rgbaToRowReference } from '../src/data/resize-rgba.js';
import { median, type Benchmark, type Row } from './harness.js';

const N = 2000;
const DECODE_N = 300;
const DIR = join(os.tmpdir(), `tl-scratch-bench-prepare-${N}-faces`);
const PYTHON = '/usr/bin/python3';

const MAKE_FACES = `
import os, random, sys
from PIL import Image, ImageDraw, ImageFilter
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(0)
for i in range(n):
    w, h = rnd.randint(230, 270), rnd.randint(230, 270)
    bg = tuple(rnd.randint(40, 220) for _ in range(3))
    im = Image.new('RGB', (w, h), bg)
    d = ImageDraw.Draw(im)
    for _ in range(40):
        x, y, r = rnd.randint(0, w), rnd.randint(0, h), rnd.randint(2, 25)
        d.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rnd.randint(0, 255) for _ in range(3)))
    skin = (rnd.randint(150, 240), rnd.randint(110, 190), rnd.randint(80, 160))
    cx, cy, fw, fh = w // 2 + rnd.randint(-10, 10), h // 2 + rnd.randint(-10, 10), rnd.randint(55, 75), rnd.randint(75, 95)
    d.ellipse([cx - fw, cy - fh, cx + fw, cy + fh], fill=skin)
    for ex in (-fw // 2, fw // 2):
        d.ellipse([cx + ex - 9, cy - 25, cx + ex + 9, cy - 15], fill=(30, 30, 40))
    d.arc([cx - 25, cy + 15, cx + 25, cy + 45], 20, 160, fill=(120, 30, 40), width=4)
    im = im.filter(ImageFilter.GaussianBlur(1.2))
    cls = 'female' if i % 2 == 0 else 'male'
    im.save(os.path.join(root, cls, f'{i:05d}.jpg'), quality=90)
`;

const PILLOW_RATE = `
import io, os, sys, time
from PIL import Image
files, mode = sys.stdin.read().split('\\n'), sys.argv[1]
data = [open(f, 'rb').read() for f in files]
decoded = [Image.open(io.BytesIO(b)).convert('RGB') for b in data] if mode == 'resize-only' else []
cpu = []
def resize(im):
    # the short side to 224 and the central 224x224, as prepare does
    s = 224 / min(im.size)
    im = im.resize((max(224, round(im.size[0] * s)), max(224, round(im.size[1] * s))), Image.BILINEAR)
    l, t2 = (im.size[0] - 224) // 2, (im.size[1] - 224) // 2
    im.crop((l, t2, l + 224, t2 + 224)).tobytes()
def run():
    t = time.perf_counter()
    c = time.process_time()
    if mode == 'resize-only':
        for im in decoded:
            resize(im)
    for b in data if mode != 'resize-only' else []:
        im = Image.open(io.BytesIO(b)).convert('RGB')
        if mode == 'resize':
            resize(im)
    cpu.append((time.process_time() - c) / len(data))
    return len(data) / (time.perf_counter() - t)
print(' '.join(str(run()) for _ in range(3)))
print(Image.__version__)
print(sorted(cpu)[1])
`;

function pillowOk(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import PIL'], { encoding: 'utf8' }).status === 0;
}

/** The folder of faces (female/ and male/), made once. */
function faces(log: (m: string) => void): string[] {
  const list = () => ['female', 'male'].flatMap((c) => readdirSync(join(DIR, c)).sort().map((f) => join(DIR, c, f)));
  if (existsSync(join(DIR, 'done'))) return list();
  rmSync(DIR, { recursive: true, force: true });
  for (const c of ['female', 'male']) mkdirSync(join(DIR, c), { recursive: true });
  if (pillowOk()) {
    log(`  making ${N} JPEG faces with Pillow in ${DIR}`);
    const r = spawnSync(PYTHON, ['-c', MAKE_FACES, DIR, String(N)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`making the faces failed: ${r.stderr}`);
  } else {
    log(`  making ${N} JPEG faces with jpeg-js in ${DIR} (Pillow is missing)`);
    let s = 1;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let i = 0; i < N; i++) {
      const w = 250, h = 250, px = new Uint8Array(w * h * 4);
      const bg = [rnd() * 200, rnd() * 200, rnd() * 200];
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const face = ((x - 125) / 65) ** 2 + ((y - 125) / 85) ** 2 < 1;
        px.set(face ? [200, 150, 120, 255] : [bg[0]! + 40 * Math.sin(x / 7), bg[1]!, bg[2]! + 30 * Math.cos(y / 5), 255], (y * w + x) * 4);
      }
      writeFileSync(join(DIR, i % 2 ? 'male' : 'female', `${String(i).padStart(5, '0')}.jpg`), jpegJsEncode({ data: px, width: w, height: h }, 90).data);
    }
  }
  writeFileSync(join(DIR, 'done'), '');
  return list();
}

/** Images per second of `f` over `files`, median of 3. */
async function rate(files: Uint8Array[], f: (b: Uint8Array) => unknown): Promise<number> {
  const runs: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    for (const b of files) await f(b);
    runs.push(files.length / ((performance.now() - t) / 1000));
  }
  return median(runs);
}

/**
 * CPU time per image of prepare's stages on one thread (this one), each stage run over all
 * files once per round and the rounds alternated, so that a change in the machine's load
 * falls on every stage alike; medians of 5 rounds.
 */
async function stages(files: string[], bufs: Uint8Array[], jpeg: Awaited<ReturnType<typeof loadWasmJpegDecoder>>, pilResize: { cpuMs: number; version: string } | undefined): Promise<Row[]> {
  const rgba = bufs.map((b) => {
    const r = decodeRgba(b, 'bench', jpeg);
    return { width: r.width, height: r.height, data: r.data.slice() };
  });
  const resizer = new RgbaResizer();
  const stage: Record<string, () => void> = {
    read: () => files.forEach((f) => readFileSync(f)),
    decode: () => bufs.forEach((b) => decodeRgba(b, 'bench', jpeg)),
    simd: () => rgba.forEach((im) => resizer.toRow(im, 224, 'rgb')),
    reference: () => rgba.forEach((im) => rgbaToRowReference(im, 224, 'rgb')),
  };
  const ms: Record<string, number[]> = {};
  for (let round = 0; round < 5; round++) {
    for (const [name, f] of Object.entries(stage)) {
      const c = process.cpuUsage();
      f();
      const u = process.cpuUsage(c);
      (ms[name] ??= []).push((u.user + u.system) / 1000 / files.length);
    }
  }
  const m = (k: string) => median(ms[k]!);
  const row = (workload: string, ours: number, peer: string, peerValue: number | null, note: string): Row => ({ workload: `stage, CPU time per image, 1 thread: ${workload}`, unit: 'ms', ours, peer, peerValue, note });
  const pilName = pilResize ? `Pillow ${pilResize.version} resize alone` : 'Pillow (not installed)';
  return [
    row('read the file', m('read'), '-', null, `${files.length} files, rounds alternated with the stages below`),
    row('decode to RGBA (@jsquash/jpeg)', m('decode'), '-', null, 'the decoder prepare uses'),
    row('RGBA → 224² channel-major row + sums, WebAssembly SIMD', m('simd'), pilName, pilResize?.cpuMs ?? null, 'what prepare runs; Pillow: bilinear resize + center crop of the decoded RGB images, one process'),
    row('the same by the JavaScript reference', m('reference'), pilName, pilResize?.cpuMs ?? null, 'RGBA → RGB, resizeToRow, sums: the readable code the SIMD kernel is tested against (the same bytes)'),
  ];
}

export const prepareBench: Benchmark = {
  name: 'prepare',
  ids: [],
  optIn: true,
  title: `prepare --image_folder on ${N} JPEG face crops of about 250² to 224² (1 and 2 workers) against Pillow's decode + bilinear resize, and the JPEG decoders alone`,
  async run(log) {
    const files = faces(log);
    const kb = files.slice(0, 200).reduce((s, f) => s + statSync(f).size, 0) / 200 / 1024;
    log(`  ${files.length} files, ${kb.toFixed(0)} KB each on average`);
    const pillow = pillowOk();
    const py = (mode: string, list: string[]) => {
      const r = spawnSync(PYTHON, ['-c', PILLOW_RATE, mode], { input: list.join('\n'), encoding: 'utf8', maxBuffer: 1 << 24 });
      if (r.status !== 0) throw new Error(`Pillow failed: ${r.stderr}`);
      const [rates, version, cpu] = r.stdout.trim().split('\n');
      return { rate: median(rates!.split(' ').map(Number)), version: version!, cpuMs: Number(cpu) * 1000 };
    };
    const rows: Row[] = [];
    const out = join(os.tmpdir(), `tl-scratch-bench-prepare-out-${process.pid}`);
    // wall rate, and CPU time per image of the whole process (worker threads included): the
    // CPU time is what another job on the machine does not change much
    const oursRate = async (workers: number) => {
      const runs: number[] = [];
      const cpu: number[] = [];
      const main: number[] = [];
      for (let k = 0; k < 2; k++) {
        rmSync(out, { recursive: true, force: true });
        const t = performance.now();
        const c = process.cpuUsage();
        const e = performance.eventLoopUtilization();
        await prepare({ imageFolder: DIR, out, workers, size: 224 });
        const u = process.cpuUsage(c);
        runs.push(files.length / ((performance.now() - t) / 1000));
        cpu.push((u.user + u.system) / 1000 / files.length);
        // the main thread's busy time (wall time it was not idle: an upper bound on its CPU time)
        main.push(performance.eventLoopUtilization(e).active / files.length);
      }
      rmSync(out, { recursive: true, force: true });
      return { rate: median(runs), cpuMs: median(cpu), mainMs: median(main) };
    };
    log(`  load average at the start: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')} (${os.availableParallelism()} cores)`);
    const pil = pillow ? py('resize', files) : undefined;
    if (pil) log(`  Pillow ${pil.version} decode + resize to 224², one process: ${pil.rate.toFixed(0)} img/s, ${pil.cpuMs.toFixed(2)} ms of CPU per image`);
    for (const workers of [1, 2]) {
      const { rate: r, cpuMs, mainMs } = await oursRate(workers);
      log(`  prepare --workers ${workers}: ${r.toFixed(0)} img/s, ${cpuMs.toFixed(2)} ms of CPU per image, main thread busy ${mainMs.toFixed(2)} ms per image`);
      rows.push({
        workload: `prepare ${N} JPEG ~250² → 224², --workers ${workers}: CPU time per image`,
        unit: 'ms',
        ours: cpuMs,
        peer: pil ? `Pillow ${pil.version}, 1 process` : 'Pillow (not installed)',
        peerValue: pil?.cpuMs ?? null,
        note: `CPU seconds of the process (its worker threads included) per image; lower is better; on an idle machine N cores give about N / this images per millisecond; of it the main thread was busy at most ${mainMs.toFixed(2)} ms per image`,
      });
      rows.push({
        workload: `prepare ${N} JPEG ~250² → 224², --workers ${workers}`,
        unit: 'img/s',
        ours: r,
        peer: pil ? `Pillow ${pil.version}, 1 process` : 'Pillow (not installed)',
        peerValue: pil?.rate ?? null,
        note: 'ours: the whole prepare (decode, resize, train.h5 and test.h5 written); Pillow: decode + bilinear short-side resize + center crop, nothing written; median of 2 (ours) and 3 (Pillow) passes',
      });
    }

    const sample = files.slice(0, DECODE_N);
    const bufs = sample.map((f) => new Uint8Array(readFileSync(f)));
    const wasm = await loadWasmJpegDecoder();
    rows.push(...(await stages(sample, bufs, wasm, pillow ? py('resize-only', sample) : undefined)));
    const pilDecode = pillow ? py('decode', sample) : undefined;
    const decodeRow = (name: string, r: number | null, note: string): Row => ({
      workload: `decode ${DECODE_N} JPEG ~250², 1 thread: ${name}`,
      unit: 'img/s',
      ours: r,
      peer: pilDecode ? `Pillow ${pilDecode.version} decode` : 'Pillow (not installed)',
      peerValue: pilDecode?.rate ?? null,
      note,
    });
    const jsRate = await rate(bufs, (b) => jpegJsDecode(b, { useTArray: true, formatAsRGBA: true }));
    rows.push(decodeRow('jpeg-js 0.4.4', jsRate, 'pure JavaScript; Node and browsers; the fallback'));
    const require = createRequire(import.meta.url);
    const wasmKb = statSync(require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')).size / 1024;
    rows.push(decodeRow('@jsquash/jpeg 1.6.0 (wasm)', await rate(bufs, (b) => wasm(b, 'bench')), `libjpeg-turbo (MozJPEG) in WebAssembly, a ${wasmKb.toFixed(0)} KB .wasm; Node and browsers; prepare's decoder`));
    let sharp: ((b: Uint8Array) => { raw: () => { toBuffer: () => Promise<Buffer> } }) & { concurrency?: (n: number) => void } | undefined;
    try {
      const spec = 'sharp';
      sharp = ((await import(spec)) as { default: typeof sharp }).default;
    } catch {
      sharp = undefined;
    }
    if (sharp) {
      sharp.concurrency?.(1);
      const s = sharp;
      rows.push(decodeRow('sharp (libvips, native)', await rate(bufs, (b) => s(b).raw().toBuffer()), 'native libvips, about 18 MB of binaries for linux-x64; Node only; one at a time, libvips concurrency 1'));
    } else {
      rows.push(decodeRow('sharp (libvips, native)', null, 'not installed (no dependency of ours): `npm i --no-save sharp@0.35.5` to compare'));
    }
    log(`  load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')}`);
    return rows;
  },
};
