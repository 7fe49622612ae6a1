#!/bin/sh
# On a machine with a GPU, in one go: install (the optional `webgpu` package comes with npm ci;
# the Vulkan loader from apt where missing), build, check that the webgpu backend gets a real
# GPU adapter (TL_WEBGPU_ADAPTER=default: no fallback to OpenGL ES on Mesa), run the GPU tests
# (the webgpu backend's own and the conformance suite on it), then the webgpu benchmark
# (webgpu vs gpu.js vs cpu). Usage: sh bench/real-gpu.sh
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
  console.log('webgpu adapter:', i.adapter, '(' + i.backend + ', ' + i.featureLevel + (i.software ? ', software renderer' : '') + ')');
  if (i.software) { console.error('real-gpu.sh: the adapter is a software renderer, not a GPU'); process.exit(1); }
"
npx vitest run test/kernels/gpu/webgpu.test.ts test/kernels/conformance.test.ts -t webgpu
node dist/bench/run.js webgpu
