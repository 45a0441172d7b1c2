#!/usr/bin/env bash
# CUDA for real (issue 14, item 7) on an NVIDIA machine that has this workspace installed and built (Node 20,
# pnpm install, turbo build) and a pip index holding tensorflow==2.21.0 and its [and-cuda] wheels:
#
#   bash packages/bench/scripts/cuda-device.sh            run everything below, on the GPU
#   bash packages/bench/scripts/cuda-device.sh --dry-run  print the plan and check every prerequisite except
#                                                         the GPU itself (works here, without one); exit 0
#                                                         when ready, 1 with the list of what is missing
# Steps:
#   1. nvidia-smi -L: an NVIDIA GPU and driver are visible (a run without one stops here).
#   2. build:native:gpu (packages/backend-cuda/scripts/build-native-gpu.sh): tfjs-node-gpu's binding against
#      the GPU TensorFlow wheel and NVIDIA's runtime wheels; then `. .cache/tfjs-native-gpu/env.sh`.
#   3. packages/backend-cuda/scripts/check-gpu.mjs: 'cuda' is available and TensorFlow placed a matMul on
#      the GPU (exit 0 only then), with a 1024² matMul timed on cuda vs tfjs's cpu backend.
#   4. The conformance suite on 'cuda' (packages/conformance/src/native-cuda.test.ts,
#      TFJS_LORA_REQUIRE_NATIVE=1 so that it cannot skip).
#   5. The benchmarks, webgpu (Dawn on Vulkan: TFJS_LORA_WEBGPU_DAWN_BACKEND=vulkan) and cuda side by side:
#      `pnpm bench webgpu` (fused vs composed LoRA kernels) and each entry of CUDA_DEVICE_BENCH (default
#      "train-reads": step time with per-step vs asynchronous loss reads), run once per backend with
#      `--backend webgpu` and `--backend cuda`.
# Every step's output also lands in $OUT (default /tmp/cuda-device) as <step>.txt. The machine the device tool
# lends has no Node and no registry (see webgpu-device.sh for the packing that needs): this script is for an
# NVIDIA machine with the workspace on it; until one is available the CUDA path is unmeasured.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
CUDA_PKG="$ROOT/packages/backend-cuda"
OUT_DIR="${OUT:-/tmp/cuda-device}"
BENCH_SUITES="${CUDA_DEVICE_BENCH:-train-reads}"
dry=0
for arg in "$@"; do [ "$arg" = "--dry-run" ] && dry=1; done
problems=()
n=0
say() { echo "cuda-device: $*"; }
step() { n=$((n + 1)); say "step $n: $*"; }
missing() { problems+=("$1"); say "  MISSING: $1"; }
# record <name> <command...>: runs it (dry run: prints it), tee-ing its output into $OUT_DIR/<name>.txt.
record() {
  local name="$1"
  shift
  if [ "$dry" = 1 ]; then say "  would run: $*"; return 0; fi
  mkdir -p "$OUT_DIR"
  "$@" 2>&1 | tee "$OUT_DIR/$name.txt"
}

step "toolchain and workspace: node, pnpm, installed and built packages"
for tool in node pnpm python3; do command -v "$tool" >/dev/null 2>&1 || missing "'$tool' is not installed"; done
[ -d "$ROOT/node_modules" ] || missing "the workspace is not installed ($ROOT/node_modules): pnpm install"
for built in core backend-cuda backend-webgpu; do
  [ -f "$ROOT/packages/$built/dist/index.js" ] || missing "packages/$built is not built: node_modules/.bin/turbo run build"
done
[ -f "$ROOT/packages/conformance/src/native-cuda.test.ts" ] || missing "packages/conformance/src/native-cuda.test.ts is not in this checkout"

step "an NVIDIA GPU: nvidia-smi -L"
if command -v nvidia-smi >/dev/null 2>&1 && gpus="$(nvidia-smi -L 2>&1)"; then
  say "  $gpus"
elif [ "$dry" = 1 ]; then
  say "  nvidia-smi: not available here (expected without a GPU; a real run stops at this step)"
else
  say "FAILED: no NVIDIA GPU visible (nvidia-smi -L: ${gpus:-not installed})"
  exit 1
fi

step "build:native:gpu (tfjs-node-gpu's binding against tensorflow==2.21.0 GPU + NVIDIA's runtime wheels)"
if [ "$dry" = 1 ]; then
  set +e
  build="$(bash "$CUDA_PKG/scripts/build-native-gpu.sh" --dry-run 2>&1)"
  build_rc=$?
  set -e
  echo "$build" | sed 's/^/cuda-device:   /'
  [ "$build_rc" = 0 ] || missing "build:native:gpu is not ready: $(echo "$build" | sed -n 's/.*dry run: NOT READY[^:]*: //p')"
else
  record build-native-gpu bash "$CUDA_PKG/scripts/build-native-gpu.sh"
  env_file="${TFJS_LORA_NATIVE_GPU_DIR:-$ROOT/.cache/tfjs-native-gpu}/env.sh"
  [ -f "$env_file" ] || { say "FAILED: build:native:gpu wrote no $env_file (skipped? see above)"; exit 1; }
  # shellcheck disable=SC1090
  . "$env_file"
fi

step "check-gpu.mjs: 'cuda' available and on the GPU; 1024² matMul on cuda vs cpu"
record check-gpu node "$CUDA_PKG/scripts/check-gpu.mjs"

step "conformance suite on 'cuda' (must not skip)"
record conformance-cuda env TFJS_LORA_REQUIRE_NATIVE=1 bash -c "cd '$ROOT/packages/conformance' && npx vitest run src/native-cuda.test.ts"

step "benchmarks, webgpu (Dawn on Vulkan) and cuda side by side"
export TFJS_LORA_WEBGPU_DAWN_BACKEND="${TFJS_LORA_WEBGPU_DAWN_BACKEND:-vulkan}"
suites="$(cd "$ROOT/packages/bench" && node --import tsx src/cli.ts list 2>/dev/null || true)"
for suite in webgpu $BENCH_SUITES; do
  if ! grep -q "| $suite " <<<"$suites"; then
    missing "bench suite '$suite' is not in this checkout (pnpm bench list)"
    continue
  fi
  if [ "$suite" = webgpu ]; then
    record "bench-webgpu" bash -c "cd '$ROOT' && pnpm bench webgpu"
  else
    for backend in webgpu cuda; do
      record "bench-$suite-$backend" bash -c "cd '$ROOT' && pnpm bench $suite --backend $backend"
    done
  fi
done

if [ "$dry" = 1 ]; then
  if [ "${#problems[@]}" -gt 0 ]; then
    say "dry run: NOT READY (${#problems[@]} problem(s)):"
    for p in "${problems[@]}"; do say "  - $p"; done
    exit 1
  fi
  say "dry run: ready (the GPU itself is checked by a real run)"
  exit 0
fi
say "done; outputs in $OUT_DIR"
