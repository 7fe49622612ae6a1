// The gpu.js side of the GPU backend: loading gpu.js, choosing and reporting its mode,
// compiling and caching kernels, and the storage behind a buffer (a texture on the GL
// modes, a Float32Array in the WebAssembly and cpu modes). Facts about gpu.js 2.24.1 that
// this file relies on, each measured on the project's 2-core Debian machines (no GPU) and
// each handled here, in sources/ or in kernel-table.ts (docs/gpu-backend.md has the list):
//
// 1. A loop bounded by a kernel *argument* stops silently at loopMaxIterations (1000 by
//    default) in every mode. Every loop bound here is a `this.constants` value, which is
//    compiled in and not capped; so every shape is its own compile: kernels are cached by
//    op, constants, output length and argument lengths (`run`).
// 2. A 2-D output wider or taller than the maximum texture size (16384 on llvmpipe, 8192
//    on SwiftShader) throws on GL; 1-D outputs are packed into a near-square texture. Every
//    kernel here has a 1-D output, so a buffer holds up to maxTextureSize² values in one
//    float per texel; above that (`packLimit`) its kernels use gpu.js's optimizeFloatMemory
//    (four floats per RGBA texel), up to 4·maxTextureSize² (268 M at 8192: fc6 of VGG-16,
//    102.8 M weights, fits even on SwiftShader); `checkSize` refuses more with a clear error.
//    A packed texture is another argument kind (trap 5): the cache key has each texture's
//    type and size.
// 3. The WebAssembly mode computes flat indices (this.thread.x, a[i]) in float32: wrong
//    above 2^24. Buffers there are host arrays, so kernels that could index past 2^24 run
//    on windows (subarrays) of at most `indexLimit` values (gemm is blocked over M, N, K;
//    elementwise kernels over ranges); see windowOf in buffers.ts, and gemm.ts. On GL a
//    plain `a[this.thread.x]` is exact past 2^24, but gpu.js converts the thread id to a
//    float as soon as it is assigned or divided (`float user_t=float(threadId.x)`), so the
//    index arithmetic of gemm, convolution, placement, ... is float32 there too: the same
//    windows apply, cut out of a texture by a slice kernel and written back by a splice
//    kernel whose only arithmetic is `this.thread.x ± constant` under strictIntegers (kept
//    integer).
// 4, 5. A kernel compiled for one argument size or kind throws (webasm), reads out of
//    bounds (GL) or silently reads with the old shape (cpu) when given another: the cache
//    key includes every argument's length, and arguments are always of one kind per mode
//    (textures on GL, uploaded by a dedicated kernel; Float32Arrays on webasm/cpu).
// 6. `pipeline: true, immutable: true` textures live until delete(): a buffer's texture is
//    deleted when the buffer gets a new one and, through a FinalizationRegistry, when the
//    buffer itself is garbage-collected; intermediate textures are deleted right away.
// 7. gpu.js falls back to its cpu mode silently (a console warning at most) when a kernel
//    uses a feature the chosen mode lacks: every compiled kernel's class is checked against
//    the mode's (by its kernel class: `kernel.kernel instanceof WebGL2Kernel`, ...; the
//    static `constructor.mode` says 'gpu' for every GL class) and a mismatch is an error.
import { TlError, UsageError } from '../../../util/errors.js';

/** The modes of gpu.js 2.24.1 that this backend can run on. */
export type GpuMode = 'headlessgl' | 'webgl2' | 'webgl' | 'webasm' | 'cpu';

/** A texture in pipeline mode (GL) or a Float32Array (webasm, cpu). */
export type Storage = Float32Array | GpuTexture;

export interface GpuTexture {
  toArray(): Float32Array | Float32Array[];
  delete(): void;
  readonly size?: number[];
}

export interface KernelFn {
  (...args: unknown[]): unknown;
  kernel: { constructor: { name: string; mode?: string }; fallbackReason?: string | null; context?: unknown };
  destroy?(removeCanvasReferences?: boolean): void;
}

export interface GpuInstance {
  mode: string;
  createKernel(source: string, settings: Record<string, unknown>): KernelFn;
  createKernelMap(map: Record<string, (...a: number[]) => number>, source: string, settings: Record<string, unknown>): KernelFn;
  destroy(): void;
}

interface GpuJs {
  GPU: (new (settings: { mode?: string }) => GpuInstance) & {
    isHeadlessGLSupported: boolean;
    isWebGL2Supported: boolean;
    isWebGLSupported: boolean;
    isWebAssemblySupported: boolean;
  };
}

/** gpu.js cannot start in the requested (or any) mode. */
export class GpuUnavailableError extends TlError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'GpuUnavailableError';
  }
}

let gpuJsModule: GpuJs | null = null;

/** Supplies gpu.js explicitly (a browser bundle that imports it itself). */
export function provideGpuJs(m: unknown): void {
  gpuJsModule = asGpuJs(m);
}

/** gpu.js's exports, whether given as its module ({ GPU, ... }), a default export of it, or the GPU class itself. */
function asGpuJs(m: unknown): GpuJs {
  const o = m as { GPU?: unknown; default?: unknown };
  if (typeof o === 'function') return { GPU: o } as unknown as GpuJs;
  if (o && typeof o.GPU === 'function') return o as GpuJs;
  if (o && o.default) return asGpuJs(o.default);
  throw new GpuUnavailableError('backend gpu: what was given as gpu.js has no GPU class');
}

function loadGpuJs(): GpuJs {
  if (gpuJsModule) return gpuJsModule;
  const g = globalThis as { GPU?: unknown; process?: { getBuiltinModule?: (id: string) => unknown } };
  // A page that loaded gpu-browser.js has a global GPU (its exports).
  if (g.GPU) return (gpuJsModule = asGpuJs(g.GPU));
  // Node: require it lazily (without a static `node:` import, so the module also bundles for browsers).
  const mod = g.process?.getBuiltinModule?.('module') as { createRequire(url: string): (id: string) => unknown } | undefined;
  if (!mod) throw new GpuUnavailableError('backend gpu: gpu.js is not available here (no global GPU and no Node module loader)');
  try {
    gpuJsModule = mod.createRequire(import.meta.url)('gpu.js') as GpuJs;
  } catch (e) {
    throw new GpuUnavailableError(`backend gpu: cannot load gpu.js (${(e as Error).message.split('\n')[0]})`);
  }
  return gpuJsModule;
}

/** Which kernel class each mode compiles to (trap 7: anything else is a silent fallback). */
const KERNEL_MODE: Record<GpuMode, string> = { headlessgl: 'headlessgl', webgl2: 'webgl2', webgl: 'webgl', webasm: 'webasm', cpu: 'cpu' };
/** gpu.js's kernel classes, most specific first (HeadlessGLKernel and WebGL2Kernel extend WebGLKernel). */
const KERNEL_CLASSES: [GpuMode, string][] = [['headlessgl', 'HeadlessGLKernel'], ['webgl2', 'WebGL2Kernel'], ['webgl', 'WebGLKernel'], ['webasm', 'WebAssemblyKernel'], ['cpu', 'CPUKernel']];

/** The mode a compiled kernel really runs in, from its class. */
function modeOf(lib: GpuJs, k: KernelFn): string {
  const classes = lib as unknown as Record<string, (abstract new (...a: never[]) => unknown) | undefined>;
  for (const [mode, cls] of KERNEL_CLASSES) {
    const C = classes[cls];
    if (C && k.kernel instanceof C) return mode;
  }
  return `unknown (${k.kernel.constructor.name})`;
}

export interface DeviceInfo {
  mode: GpuMode;
  /** The GL renderer (UNMASKED_RENDERER_WEBGL where exposed), or null off GL. */
  renderer: string | null;
  /** Why this is not a real GPU, or null when it is. */
  notAGpu: string | null;
  maxTextureSize: number | null;
}

export class Device {
  readonly mode: GpuMode;
  /** Storage is a host Float32Array (webasm, cpu) rather than a texture (GL). */
  readonly host: boolean;
  readonly info: DeviceInfo;
  /** Kernels that can index past it run on windows of at most this many values (trap 3); tests lower it. */
  indexLimit: number;
  /** GL: outputs above this many values are packed four to a texel (trap 2); tests lower it. */
  packLimit: number;
  /** The gpu.js instance (tests). */
  readonly gpu: GpuInstance;
  private readonly lib: GpuJs;
  private readonly kernels = new Map<string, KernelFn>();
  /** Compiles so far (tests: a shape seen before does not compile again). */
  compiles = 0;
  /** Of which with outputs packed four to a texel (trap 2). */
  packedCompiles = 0;
  /** Live textures (GL): made minus deleted. */
  liveTextures = 0;
  /** Bytes of those textures as the GL driver allocates them (width × height × bytes per texel of their format). */
  liveTextureBytes = 0;
  private readonly textureBytes = new WeakMap<object, number>();
  private readonly finalizer: FinalizationRegistry<{ storage: Storage | null }>;

  constructor(requested?: string) {
    const lib = loadGpuJs();
    this.lib = lib;
    const want = requested && requested !== 'auto' ? requested : undefined;
    if (want !== undefined && !(want in KERNEL_MODE)) {
      throw new GpuUnavailableError(`backend gpu: unknown gpu.js mode '${want}'; choose one of auto, ${Object.keys(KERNEL_MODE).join(', ')}`);
    }
    try {
      this.gpu = new lib.GPU(want ? { mode: want } : {});
    } catch (e) {
      throw new GpuUnavailableError(`backend gpu: gpu.js cannot start${want ? ` in mode '${want}'` : ''}: ${(e as Error).message.split('\n')[0]}`);
    }
    // Which mode really runs: the class a probe kernel compiles to.
    let probe: KernelFn;
    try {
      probe = this.gpu.createKernel('function(a) { return a[this.thread.x] + 1; }', { output: [2], pipeline: false });
      const r = probe(Float32Array.of(1, 2)) as ArrayLike<number>;
      if (r[0] !== 2 || r[1] !== 3) throw new Error(`probe kernel computed [${r[0]}, ${r[1]}] instead of [2, 3]`);
    } catch (e) {
      throw new GpuUnavailableError(`backend gpu: gpu.js cannot run a kernel${want ? ` in mode '${want}'` : ''}: ${(e as Error).message.split('\n')[0]}`);
    }
    const mode = modeOf(lib, probe) as GpuMode;
    if (!(mode in KERNEL_MODE)) throw new GpuUnavailableError(`backend gpu: gpu.js runs in mode '${String(mode)}', which this backend does not support`);
    if (want && mode !== want) throw new GpuUnavailableError(`backend gpu: asked for gpu.js mode '${want}' but it fell back to '${mode}'${probe.kernel.fallbackReason ? ` (${probe.kernel.fallbackReason})` : ''}`);
    this.mode = mode;
    this.host = mode === 'webasm' || mode === 'cpu';
    // cpu mode computes in float64; webasm and GL index arithmetic is float32 (gpu.js turns GL's integer thread ids into floats).
    this.indexLimit = mode === 'cpu' ? Number.MAX_SAFE_INTEGER : 1 << 24;
    this.info = describe(mode, probe);
    const max = this.info.maxTextureSize;
    this.packLimit = max === null ? Number.MAX_SAFE_INTEGER : max * max;
    probe.destroy?.();
    this.finalizer = new FinalizationRegistry((cell) => this.release(cell.storage));
  }

  /** Frees a storage (GL: deletes its texture). */
  release(s: Storage | null): void {
    if (s === null || s instanceof Float32Array) return;
    s.delete();
    this.liveTextures--;
    this.liveTextureBytes -= this.textureBytes.get(s) ?? 0;
  }

  /** Deletes the cell's texture when its owner is garbage-collected. */
  track(owner: object, cell: { storage: Storage | null }): void {
    if (!this.host) this.finalizer.register(owner, cell);
  }

  /** A buffer of n values must fit one 1-D output, four values per texel at most (trap 2). */
  checkSize(n: number): void {
    const max = this.info.maxTextureSize;
    if (max !== null && n > 4 * max * max) throw new UsageError(`backend gpu: a buffer of ${n} values exceeds the ${max}×${max} RGBA texture limit of this GPU (${4 * max * max} values)`);
  }

  /** Host values to storage. */
  upload(values: Float32Array): Storage {
    if (this.host) return values;
    if (values.length === 0) return new Float32Array(0);
    return this.run('upload', 'function(a) { return a[this.thread.x]; }', values.length, {}, [values]);
  }

  /** Storage to host values (a copy on GL; the array itself on webasm/cpu). */
  download(s: Storage): Float32Array {
    if (s instanceof Float32Array) return s;
    const a = s.toArray();
    return a instanceof Float32Array ? a : Float32Array.from((a as Float32Array[]).flatMap((r) => Array.from(r)));
  }

  /**
   * Runs the kernel `source` (cached by name, constants, output length and argument
   * lengths) over a 1-D output of n values and returns the new storage.
   */
  run(name: string, source: string, n: number, constants: Record<string, number>, args: Storage[], functions: ((...a: number[]) => number)[] = [], strictIntegers = false): Storage {
    if (n === 0) return new Float32Array(0);
    this.checkSize(n);
    const packed = !this.host && n > this.packLimit;
    const kinds = args.map((a) => (a instanceof Float32Array ? a.length : `${(a as { type?: string }).type}:${a.size?.join('x')}`));
    const key = `${name}|${n}${packed ? 'p' : ''}${strictIntegers ? 's' : ''}|${kinds.join(',')}|${JSON.stringify(constants)}|${source}`;
    let k = this.kernels.get(key);
    const fresh = !k;
    if (!k) {
      k = this.gpu.createKernel(source, {
        output: [n], constants, pipeline: true, immutable: true, precision: 'single', tactic: 'precision', functions, optimizeFloatMemory: packed, strictIntegers,
      });
      this.kernels.set(key, k);
      this.compiles++;
      if (packed) this.packedCompiles++;
    }
    let out: Storage;
    try {
      out = k(...args) as Storage;
    } catch (e) {
      throw new Error(`backend gpu: kernel '${name}' (${JSON.stringify(constants)}, output ${n}) failed in gpu.js mode ${this.mode}: ${(e as Error).message.split('\n')[0]}`);
    }
    if (fresh) this.assertMode(name, k);
    if (!(out instanceof Float32Array)) {
      this.liveTextures++;
      const bytes = textureBytes(out);
      this.textureBytes.set(out, bytes);
      this.liveTextureBytes += bytes;
    }
    else if (out.length !== n) throw new Error(`backend gpu: kernel '${name}' returned ${out.length} values, expected ${n}`);
    return out;
  }

  /** Trap 7: a kernel that compiled to another mode's class than the device's fell back silently. */
  assertMode(name: string, k: KernelFn): void {
    const got = modeOf(this.lib, k);
    if (got !== KERNEL_MODE[this.mode]) {
      throw new Error(`backend gpu: kernel '${name}' fell back from gpu.js mode '${this.mode}' to '${String(got)}'${k.kernel.fallbackReason ? ` (${k.kernel.fallbackReason})` : ''}`);
    }
  }

  /** Modes of every compiled kernel (tests: no silent fallback). */
  kernelModes(): string[] {
    return [...new Set([...this.kernels.values()].map((k) => modeOf(this.lib, k)))];
  }

  get kernelCount(): number {
    return this.kernels.size;
  }
}

/** A texture's size in device memory: R32F (WebGL2, one float per texel) 4 bytes a texel, RG32F 8, RGBA (packed, or WebGL1's float textures) 16. */
function textureBytes(t: GpuTexture): number {
  const { internalFormat: f, context: gl } = t as { internalFormat?: number; context?: { R32F?: number; RG32F?: number } };
  const perTexel = gl && f !== undefined && f === gl.R32F ? 4 : gl && f !== undefined && f === gl.RG32F ? 8 : 16;
  const [w = 0, h = 1] = t.size ?? [];
  return w * h * perTexel;
}

function describe(mode: GpuMode, probe: KernelFn): DeviceInfo {
  if (mode === 'webasm') return { mode, renderer: null, notAGpu: 'gpu.js runs in its WebAssembly mode on the CPU (no WebGL here)', maxTextureSize: null };
  if (mode === 'cpu') return { mode, renderer: null, notAGpu: 'gpu.js runs in its JavaScript cpu mode (no WebGL or WebAssembly here)', maxTextureSize: null };
  let renderer: string | null = null;
  let maxTextureSize: number | null = null;
  try {
    const gl = probe.kernel.context as {
      getExtension(n: string): { UNMASKED_RENDERER_WEBGL: number } | null;
      getParameter(p: number): unknown;
      /** headless-gl (the `gl` package): its getParameter(RENDERER) says just 'ANGLE'; this asks ANGLE itself. */
      _getParameterDirect?(p: number): unknown;
      RENDERER: number;
      MAX_TEXTURE_SIZE: number;
    };
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl._getParameterDirect ? gl._getParameterDirect(gl.RENDERER) : gl.getParameter(gl.RENDERER));
    maxTextureSize = Number(gl.getParameter(gl.MAX_TEXTURE_SIZE));
  } catch {
    // no context to ask: renderer unknown
  }
  const soft = renderer !== null && /llvmpipe|swiftshader|softpipe|software|lavapipe/i.test(renderer);
  return { mode, renderer, notAGpu: soft ? `the WebGL renderer is a software rasterizer (${renderer})` : null, maxTextureSize };
}
