#!/usr/bin/env bash
# The WebGPU benchmarks of packages/bench on a real NVIDIA GPU through Dawn's Vulkan backend, on the machine the
# `device` tool lends (x86-64, no registry access, no Node there): src/suites/webgpu.ts (fused vs composed
# kernels), then src/suites/train-reads.ts (training step time, a loss read per step vs core's train with
# grouped asynchronous reads; Node only, the device machine has no Chromium).
#
# 1. Here, from the repository root (needs the workspace installed, Node 20 and apt access):
#      bash packages/bench/scripts/webgpu-device.sh pack
#    builds core, bundles each benchmark with esbuild into one file (bench.mjs, train-reads.mjs), and puts it with a compressed Node
#    binary, the `webgpu` package (dawn.node) and the Vulkan loader's .deb into .device-bench/ (about
#    40 MB; ignored through .git/info/exclude so that the device tool's `carry` can take it).
# 2. With the device tool (one call, about 2 minutes of device time):
#      run(command: "bash packages/bench/scripts/webgpu-device.sh run", carry: [".device-bench"], timeout_s: 420)
#    unpacks the loader into / (the device README's recipe), points Vulkan at NVIDIA's driver manifest
#    when the loader finds none, forces Dawn onto Vulkan (TFJS_LORA_WEBGPU_DAWN_BACKEND=vulkan, so a
#    missing driver fails loudly instead of falling back to OpenGL), prints `nvidia-smi -L`, and runs the
#    benchmarks; the tables also land in $OUT/bench-webgpu.txt and $OUT/bench-train-reads.txt.
# Extra arguments after `run` go to the kernel benchmark (e.g. `run --rounds 9 --reps 10`);
# TRAIN_READS_ARGS (e.g. "--steps 48 --hidden 1024 --inputs 1024 --batch 256") go to train-reads.
# DEVICE_BENCH_DIR moves the folder; DEVICE_BENCH_DRY=1 skips the unpacking into / (to try `run` here,
# together with TFJS_LORA_WEBGPU_DAWN_BACKEND=opengl).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
PKG="$ROOT/packages/backend-webgpu"
BENCH="$ROOT/packages/bench"
DIR="${DEVICE_BENCH_DIR:-$ROOT/.device-bench}"
mode="${1:-}"
[ $# -gt 0 ] && shift

pack() {
  local esbuild="$ROOT/packages/conformance/node_modules/.bin/esbuild"
  local webgpu
  webgpu="$(cd "$PKG/node_modules/webgpu" && pwd -P)"
  [ -x "$esbuild" ] || { echo "esbuild not found at $esbuild: install the workspace (pnpm install)" >&2; exit 1; }
  rm -rf "$DIR" && mkdir -p "$DIR/debs" "$DIR/node_modules/webgpu/dist/linux-x64"
  (cd "$ROOT" && npx turbo run build --filter=@tfjs-lora/backend-webgpu... --output-logs=errors-only)
  # One ESM file with tfjs and the plugin inside; `webgpu` stays outside (it loads dawn.node).
  local suite out
  for suite in webgpu:bench train-reads:train-reads; do
    out="${suite#*:}"
    # playwright-core and esbuild are behind a dynamic import that --no-chromium never reaches.
    "$esbuild" "$BENCH/src/suites/${suite%%:*}.ts" --bundle --platform=node --format=esm --target=node20 --log-level=warning --ignore-annotations \
      --external:webgpu --external:playwright-core --external:esbuild --outfile="$DIR/$out.mjs" \
      --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
  done
  cp "$webgpu/index.js" "$webgpu/package.json" "$DIR/node_modules/webgpu/"
  xz -T0 -6 -c "$webgpu/dist/linux-x64/dawn.node" > "$DIR/dawn.node.xz"
  xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$DIR/node.xz"
  # The Vulkan loader (the NVIDIA machine has the driver but, per the device README, maybe no loader).
  local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64-lists)
  mkdir -p /tmp/amd64-lists/partial
  apt-get "${o[@]}" update -qq
  (cd "$DIR/debs" && apt-get "${o[@]}" download libvulkan1)
  if [ "$DIR" = "$ROOT/.device-bench" ] && [ -d "$ROOT/.git" ] && ! grep -qx '/.device-bench/' "$ROOT/.git/info/exclude" 2>/dev/null; then
    echo '/.device-bench/' >> "$ROOT/.git/info/exclude"
  fi
  du -sh "$DIR"
  echo 'next: run(command: "bash packages/bench/scripts/webgpu-device.sh run", carry: [".device-bench"], timeout_s: 420)'
}

run() {
  [ -f "$DIR/bench.mjs" ] || { echo "$DIR/bench.mjs missing: run 'device.sh pack' here first and carry .device-bench" >&2; exit 1; }
  if [ "${DEVICE_BENCH_DRY:-0}" != 1 ]; then
    for f in "$DIR"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  local nv=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nv" ] && ! ls /etc/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
    export VK_DRIVER_FILES="$nv"
  fi
  export TFJS_LORA_WEBGPU_DAWN_BACKEND="${TFJS_LORA_WEBGPU_DAWN_BACKEND:-vulkan}"
  xz -dc "$DIR/node.xz" > /tmp/device-bench-node && chmod +x /tmp/device-bench-node
  xz -dc "$DIR/dawn.node.xz" > "$DIR/node_modules/webgpu/dist/linux-x64/dawn.node"
  (nvidia-smi -L || echo "nvidia-smi: not available") 2>&1
  echo "node $(/tmp/device-bench-node --version), Dawn backend $TFJS_LORA_WEBGPU_DAWN_BACKEND, VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
  set -o pipefail
  /tmp/device-bench-node "$DIR/bench.mjs" "$@" 2>&1 | grep -v '^Warning: max' | tee "${OUT:-/tmp}/bench-webgpu.txt"
  if [ -f "$DIR/train-reads.mjs" ]; then
    # shellcheck disable=SC2086 # TRAIN_READS_ARGS is a list of arguments
    /tmp/device-bench-node "$DIR/train-reads.mjs" --no-chromium ${TRAIN_READS_ARGS:-} 2>&1 | grep -v '^Warning: max' | tee "${OUT:-/tmp}/bench-train-reads.txt"
  else
    echo "$DIR/train-reads.mjs missing: pack again to include the train-reads benchmark" >&2
  fi
}

case "$mode" in
  pack) pack ;;
  run) run "$@" ;;
  *) echo "usage: $0 pack | run [benchmark arguments]" >&2; exit 2 ;;
esac
