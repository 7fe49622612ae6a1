#!/bin/sh
# npm run test:gl: the GPU backend's tests (test/kernels/gpu/webgl.test.ts, and the conformance
# suite, which includes the gpu backend) in gpu.js's headlessgl mode, under Xvfb. Opt-in:
# headlessgl needs gpu.js's optional native `gl` package, whose install script package.json's
# allowScripts denies (it compiles ANGLE for minutes and needs X11 development packages), and
# an X server. TL_GPU_MODE=headlessgl makes the backend ask gpu.js for that mode and fail
# (never fall back) when it cannot start; the tests then expect it in every kernel.
set -e
cd "$(dirname "$0")/.."

missing=""
command -v xvfb-run >/dev/null 2>&1 || missing="xvfb-run"
if ! node -e "require('gl')" >/dev/null 2>&1; then missing="${missing:+$missing and }the native gl package (built)"; fi
if [ -n "$missing" ]; then
  echo "test:gl needs $missing: apt-get install xvfb xauth libxi-dev libglu1-mesa-dev libglew-dev pkg-config python3 build-essential, then npm rebuild gl --dangerously-allow-all-scripts (builds gl's ANGLE with node-gyp, about 6 minutes on 2 cores; add npm_config_nodedir=/usr when Debian's Node headers are in /usr/include/node and nodejs.org is unreachable)" >&2
  exit 1
fi

TL_GPU_MODE=headlessgl exec xvfb-run -a -s "-screen 0 1280x1024x24" npx vitest run test/kernels/gpu/webgl.test.ts test/kernels/conformance.test.ts "$@"
