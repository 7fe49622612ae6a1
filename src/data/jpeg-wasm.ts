// JPEG decoding with libjpeg-turbo compiled to WebAssembly (the MozJPEG decoder that
// @jsquash/jpeg ships, a small .wasm that also runs in browsers): faster than jpeg-js
// (bench/prepare.ts), and decoding is much of what `prepare` spends its time on. The .wasm
// is read from the installed package (no network) and compiled once per thread.
//
// libjpeg ends a fatal error with exit(), which the Emscripten module throws as an
// ExitStatus; its message went to printErr just before, so that is what a user is shown.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TlError } from '../util/errors.js';
import type { JpegDecoder } from './image.js';

interface MozJpegModule {
  decode(data: Uint8Array, preserveOrientation: boolean): { width: number; height: number; data: Uint8ClampedArray } | null;
}

type ModuleFactory = (overrides: Record<string, unknown>) => Promise<MozJpegModule>;

/** Images above this many pixels are refused before decoding, as jpeg-js's maxResolutionInMP does. */
const MAX_PIXELS = 200e6;

/** Width and height from the first SOFn marker, or undefined when the markers do not lead to one. */
export function jpegFrameSize(buf: Uint8Array): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return undefined;
    const m = buf[i + 1]!;
    if (m === 0xff) {
      i++; // fill byte
      continue;
    }
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd8)) {
      i += 2; // markers without a length
      continue;
    }
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: (buf[i + 5]! << 8) | buf[i + 6]!, width: (buf[i + 7]! << 8) | buf[i + 8]! };
    }
    i += 2 + ((buf[i + 2]! << 8) | buf[i + 3]!);
  }
  return undefined;
}

let loading: Promise<JpegDecoder> | undefined;

/**
 * The WebAssembly libjpeg-turbo decoder, loaded once (later calls return the same promise).
 * Rejects with a TlError when @jsquash/jpeg is not installed or its .wasm does not compile.
 */
export function loadWasmJpegDecoder(): Promise<JpegDecoder> {
  loading ??= load().catch((e: unknown) => {
    loading = undefined;
    throw e instanceof TlError ? e : new TlError(`the WebAssembly JPEG decoder (@jsquash/jpeg) cannot be loaded: ${(e as Error)?.message ?? e}; reinstall the package (npm ci)`);
  });
  return loading;
}

async function load(): Promise<JpegDecoder> {
  const require = createRequire(import.meta.url);
  const wasm = new WebAssembly.Module(readFileSync(require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')));
  const spec = '@jsquash/jpeg/codec/dec/mozjpeg_dec.js';
  const factory = ((await import(spec)) as { default: ModuleFactory }).default;
  const messages: string[] = [];
  const mod = await factory({
    noInitialRun: true,
    // synchronous instantiation from the module compiled above: no fetch, no file lookup by URL
    instantiateWasm: (imports: ConstructorParameters<typeof WebAssembly.Instance>[1], done: (i: WebAssembly.Instance) => void) => {
      const instance = new WebAssembly.Instance(wasm, imports);
      done(instance);
      return instance.exports;
    },
    print: (s: string) => messages.push(s),
    printErr: (s: string) => messages.push(s),
  });
  return (buf, where) => {
    const size = jpegFrameSize(buf);
    if (size && size.width * size.height > MAX_PIXELS) {
      throw new TlError(`${where}: cannot decode JPEG (${size.width}x${size.height} is more than ${MAX_PIXELS / 1e6} megapixels)`);
    }
    messages.length = 0;
    let img;
    try {
      img = mod.decode(buf, false);
    } catch (e) {
      const why = messages.at(-1) ?? (e as Error)?.message ?? String(e);
      throw new TlError(`${where}: cannot decode JPEG (${why})`);
    }
    // a truncated file decodes with its missing part grey, after this warning: not an image to train on
    const truncated = messages.find((m) => /premature end/i.test(m));
    if (truncated) throw new TlError(`${where}: cannot decode JPEG (${truncated}: the file is truncated)`);
    if (!img) throw new TlError(`${where}: cannot decode JPEG (${messages.at(-1) ?? 'the decoder returned nothing'})`);
    return { width: img.width, height: img.height, data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength) };
  };
}
