#!/bin/sh
# On a machine with a GPU, in one go: install (the optional `webgpu` package and the
# tfjs-backend-webgpu peer come with npm ci; the Vulkan loader from apt where missing), build,
# check that the webgpu backend gets a real GPU adapter (TL_WEBGPU_ADAPTER=default: no fallback
# to OpenGL ES on Mesa), run the GPU tests (the webgpu backend's own, its limits and device
# loss, the conformance suite and the fused epilogues on it, -b webgpu / -b auto on the
# command line), then the webgpu benchmark (webgpu vs gpu.js vs cpu vs tfjs-webgpu) with the
# lab at its real size: VGG-16 training at 224², batch 32, img/s on webgpu and on cpu.
# Usage: sh bench/real-gpu.sh   (the last lines are the table for the README)
set -e
cd "$(dirname "$0")/.."
SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  { $SUDO apt-get install -y libvulkan1 || { $SUDO apt-get update && $SUDO apt-get install -y libvulkan1; }; } >/dev/null 2>&1 \
    || echo "warning: could not install the Vulkan loader (libvulkan1); Dawn may find no GPU" >&2
fi
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
npm run build
export TL_WEBGPU_ADAPTER=default
node --input-type=module -e "
  const { webgpuInfo } = await import('./dist/src/kernels/gpu/webgpu/index.js');
  const i = webgpuInfo();
  console.log('webgpu adapter:', i.adapter, '(' + i.backend + ', ' + i.featureLevel + (i.software ? ', software renderer' : '') + '),',
    'largest binding', i.maxBinding, 'bytes, largest buffer', i.maxBuffer, 'bytes');
  if (i.software) { console.error('real-gpu.sh: the adapter is a software renderer, not a GPU'); process.exit(1); }
"
npx vitest run test/kernels/gpu/webgpu.test.ts test/kernels/gpu/webgpu-limits.test.ts test/kernels/gpu/webgpu-loss.test.ts \
  test/kernels/conformance.test.ts test/models/epilogue-fusion.test.ts test/cli/webgpu.test.ts -t webgpu
TL_BENCH_VGG224=1 node dist/bench/run.js webgpu
