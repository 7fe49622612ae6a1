// Backends for the conformance suite. Besides the ones the engine registers (`cpu`: the
// fast backend, WebAssembly SIMD and worker threads; `ref`: the reference kernels), a
// `boxed` backend runs the reference kernels with buffers that are handle objects
// ({ handle: n }) kept in a table, not typed arrays, the way a GPU backend hands out
// textures. Any code above the kernel seam that indexes a buffer,
// calls a typed-array method on it or passes a host array where a buffer belongs fails
// under it, so running ops, layers, the optimizer and a training step on `boxed` tests the
// seam itself.
import { hostBackend, type HostArray } from '../../src/kernels/cpu/ref/index.js';
import type { Backend, DeviceBuffer } from '../../src/kernels/backend.js';
import { getBackend, registerBackend, registeredBackends } from '../../src/kernels/index.js';
import { webgpuUnavailable } from '../../src/kernels/gpu/webgpu/index.js';

interface Handle {
  readonly handle: number;
}

const table = new Map<number, HostArray>();
let next = 1;

export const boxedBackend: Backend = hostBackend('boxed', 'the reference kernels behind opaque handles (tests only)', {
  box: (a) => {
    const h: Handle = Object.freeze({ handle: next++ });
    table.set(h.handle, a);
    return h as unknown as DeviceBuffer;
  },
  unbox: (b) => {
    const a = table.get((b as unknown as Handle).handle);
    if (!a) throw new Error(`boxed backend: ${JSON.stringify(b)} is not one of its buffers (a host array or another backend's buffer was passed)`);
    return a;
  },
});

/** Registers `boxed` (once) and returns every registered backend; webgpu only where it starts (else skipped, with the reason printed once). */
export function allBackends(): Backend[] {
  registerBackend(boxedBackend);
  return registeredBackends().filter((b) => b.name !== 'webgpu' || webgpuUsable());
}

let webgpuChecked: boolean | null = null;
/** Whether the webgpu backend starts here (the `webgpu` package and an adapter); TL_TEST_WEBGPU=0 leaves it out. */
export function webgpuUsable(): boolean {
  if (webgpuChecked !== null) return webgpuChecked;
  const reason = process.env.TL_TEST_WEBGPU === '0' ? 'TL_TEST_WEBGPU=0' : webgpuUnavailable();
  if (reason) console.warn(`webgpu backend skipped: ${reason}`);
  return (webgpuChecked = reason === null);
}

/**
 * The backends the conformance suite holds to its checks: every registered one, or, when
 * TL_CONFORMANCE_MODULE names a module (a path or file URL) exporting `makeBackend()` (or a
 * Backend as its default export), that backend alone beside the reference, registered
 * under its own name. `npm run exercise my-backend` runs the suite this way on the
 * learner's backend (exercises/my-backend).
 */
export async function conformanceBackends(): Promise<Backend[]> {
  const module = process.env.TL_CONFORMANCE_MODULE;
  if (!module) return allBackends();
  const m = (await import(module)) as { makeBackend?: () => Backend; default?: Backend };
  const be = m.makeBackend ? m.makeBackend() : m.default;
  if (!be || typeof be.gemm !== 'function') throw new Error(`TL_CONFORMANCE_MODULE=${module}: exports neither makeBackend() nor a Backend as default`);
  registerBackend(be);
  return be === getBackend('ref') ? [be] : [getBackend('ref'), be];
}

/** The reference backend (`ref`) every other one is compared with. */
export const referenceBackend = (): Backend => getBackend('ref');
