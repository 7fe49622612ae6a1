/// <reference path="./webassembly.d.ts" />
// Feature detection and per-thread instances of the SIMD gemm module (simd-gemm.ts).
//
// Relaxed SIMD (f32x4.relaxed_madd) sits behind a V8 flag in Node 20; a program may set it
// for itself before compiling, which `simdModule` does, then keeps whichever variant
// validates: relaxed madd, else plain SIMD mul + add, else none (the backend then falls
// back to the reference kernels and says so).
import v8 from 'node:v8';
import { gemmModuleBytes, DEFAULT_TILE, type MacroKernel, type TileShape } from './simd-gemm.js';
import { winogradModuleBytes, type WinogradGradOutputKernel, type WinogradInputKernel, type WinogradOutputKernel } from './simd-winograd.js';
import type { Winograd43FilterGradKernel, Winograd43FilterKernel, Winograd43GradOutputKernel, Winograd43InputKernel, Winograd43OutputKernel } from './simd-winograd43.js';

export interface SimdModule {
  /** The gemm macro-kernel. */
  module: WebAssembly.Module;
  /** Winograd's transforms, F(2×2, 3×3)'s and F(4×4, 3×3)'s (simd-winograd.ts, simd-winograd43.ts). */
  winograd: WebAssembly.Module;
  relaxed: boolean;
}

let cached: SimdModule | null | undefined;

/** The compiled gemm module (relaxed if the engine accepts it), or null without WebAssembly SIMD. */
export function simdModule(): SimdModule | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (typeof WebAssembly !== 'object') return cached;
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // not V8, or the flag is gone (relaxed SIMD shipped): validation below decides
  }
  for (const relaxed of [true, false]) {
    const bytes = gemmModuleBytes(relaxed);
    if (WebAssembly.validate(bytes)) {
      cached = { module: new WebAssembly.Module(bytes), winograd: new WebAssembly.Module(winogradModuleBytes()), relaxed };
      break;
    }
  }
  return cached;
}

/** One thread's instances of the modules over its own memory (packed panels and a C block, a padded plane and its transform), grown on demand. */
export class SimdInstance {
  readonly memory: WebAssembly.Memory;
  readonly macro: MacroKernel;
  /** Winograd's input and output transforms, when the module was given. */
  readonly winoIn: WinogradInputKernel | null;
  readonly winoOut: WinogradOutputKernel | null;
  readonly winoDy: WinogradGradOutputKernel | null;
  /** F(4×4, 3×3)'s input, output, output-gradient and filter transforms and the weight gradient's last step (simd-winograd43.ts). */
  readonly wino43In: Winograd43InputKernel | null;
  readonly wino43Out: Winograd43OutputKernel | null;
  readonly wino43Dy: Winograd43GradOutputKernel | null;
  readonly wino43U: Winograd43FilterKernel | null;
  readonly wino43Dw: Winograd43FilterGradKernel | null;
  f32: Float32Array;
  readonly MR: number;
  readonly NR: number;

  /** `tile` must be the one the module was emitted with (benchmarks compare others). */
  constructor(module: WebAssembly.Module, tile: TileShape = DEFAULT_TILE, winograd: WebAssembly.Module | null = null) {
    this.MR = tile.MR;
    this.NR = tile.NR;
    this.memory = new WebAssembly.Memory({ initial: 32 });
    const inst = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.macro = inst.exports['macro'] as MacroKernel;
    const wino = winograd ? new WebAssembly.Instance(winograd, { env: { memory: this.memory } }).exports : null;
    this.winoIn = wino ? (wino['winoIn'] as WinogradInputKernel) : null;
    this.winoOut = wino ? (wino['winoOut'] as WinogradOutputKernel) : null;
    this.winoDy = wino ? (wino['winoDy'] as WinogradGradOutputKernel) : null;
    this.wino43In = wino ? (wino['wino43In'] as Winograd43InputKernel) : null;
    this.wino43Out = wino ? (wino['wino43Out'] as Winograd43OutputKernel) : null;
    this.wino43Dy = wino ? (wino['wino43Dy'] as Winograd43GradOutputKernel) : null;
    this.wino43U = wino ? (wino['wino43U'] as Winograd43FilterKernel) : null;
    this.wino43Dw = wino ? (wino['wino43Dw'] as Winograd43FilterGradKernel) : null;
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /** Makes the memory at least `floats` long; returns the (possibly new) view. */
  reserve(floats: number): Float32Array {
    const need = floats * 4 - this.memory.buffer.byteLength;
    if (need > 0) {
      this.memory.grow(Math.ceil(need / 65536));
      this.f32 = new Float32Array(this.memory.buffer);
    }
    return this.f32;
  }
}
