#!/usr/bin/env bash
# build:native:gpu — the GPU variant of build:native: builds tfjs-node-gpu's binding (tfjs_binding.node) from
# source against the GPU `tensorflow==2.21.0` wheel and NVIDIA's CUDA/cuDNN runtime wheels (tensorflow's
# [and-cuda] extra: nvidia-cublas-cu12, -cuda-runtime-cu12, -cudnn-cu12, -cufft-cu12, -curand-cu12,
# -cusolver-cu12, -cusparse-cu12, -nccl-cu12, -cuda-nvrtc-cu12, -nvjitlink-cu12, -cuda-cupti-cu12,
# -cuda-nvcc-cu12), all from the machine's pip indexes, into a cache folder:
#
#   $TFJS_LORA_NATIVE_GPU_DIR (default <repo>/.cache/tfjs-native-gpu)/
#     wheels/                           the downloaded wheels
#     tensorflow-2.21.0-gpu/{lib,include} libtensorflow_cc.so.2, libtensorflow_framework.so.2, C API headers
#     nvidia/<part>/lib/                the CUDA, cuDNN, NCCL... shared libraries of the NVIDIA wheels
#     tfjs-node-gpu/                    a copy of @tensorflow/tfjs-node-gpu 4.22.0 with lib/napi-v8/tfjs_binding.node
#     env.sh                            LD_LIBRARY_PATH (the nvidia lib folders) and TFJS_LORA_NATIVE_DIR (this folder)
#
# Use it with `. .cache/tfjs-native-gpu/env.sh` before running Node: the 'cuda' backend then loads this copy.
# Ends with a smoke test (a matMul on tfjs's 'tensorflow' backend) that prints whether TensorFlow found a
# GPU; without one (this project's machines) it still builds and loads and says "GPU: absent".
#
#   bash scripts/build-native-gpu.sh            build (reruns reuse the cache)
#   bash scripts/build-native-gpu.sh --dry-run  print every step, check the toolchain and that every wheel is
#                                               in the pip indexes (with its size); downloads nothing. Exit 0
#                                               when all is there, 1 when something is missing (named).
# TFJS_LORA_PIP_INDEXES overrides the index URLs (default: pip config global.extra-index-url and index-url).
# Without --dry-run, a missing wheel or toolchain piece prints "build:native:gpu: skipped: <why>" and exits 0.
set -euo pipefail

TF_VERSION=2.21.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkg="$(dirname "$here")"
repo="$(cd "$pkg/../.." && pwd)"
cache="${TFJS_LORA_NATIVE_GPU_DIR:-$repo/.cache/tfjs-native-gpu}"
tfname="tensorflow-$TF_VERSION-gpu"
dry=0
for arg in "$@"; do [ "$arg" = "--dry-run" ] && dry=1; done
n=0
problems=()
log() { echo "build:native:gpu: $*"; }
step() { n=$((n + 1)); log "step $n: $*"; }
# problem <why>: a dry run collects it (and goes on), a build skips.
problem() {
  if [ "$dry" = 1 ]; then problems+=("$1"); log "  MISSING: $1"; else log "skipped: $1"; exit 0; fi
}

step "toolchain: node, python3 + pip, make, g++, Node's headers (N-API >= 8), the installed tfjs-node-gpu and node-pre-gyp"
for tool in node python3 make g++; do
  command -v "$tool" >/dev/null 2>&1 || problem "'$tool' is not installed (needed to build tfjs_binding.node)"
done
python3 -m pip --version >/dev/null 2>&1 || problem "pip is not available (python3 -m pip)"
nodedir="${npm_config_nodedir:-/usr}"
[ -f "$nodedir/include/node/node_api.h" ] || problem "Node's headers are not at $nodedir/include/node (Debian: libnode-dev, or set npm_config_nodedir)"
src_gpu="$(cd "$pkg" && node -p "require('path').dirname(require.resolve('@tensorflow/tfjs-node-gpu/package.json'))" 2>/dev/null)" ||
  problem "@tensorflow/tfjs-node-gpu is not installed in $pkg/node_modules (pnpm install)"
pregyp="$(cd "${src_gpu:-$pkg}" && node -p "require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp')" 2>/dev/null)" ||
  problem "@mapbox/node-pre-gyp (a dependency of @tensorflow/tfjs-node-gpu) is not installed"
[ "$dry" = 1 ] && log "  node $(node --version 2>/dev/null || echo absent), $(python3 -m pip --version 2>/dev/null | cut -d' ' -f1-2), tfjs-node-gpu at ${src_gpu:-?}"

step "find tensorflow==$TF_VERSION and its [and-cuda] wheels in the pip indexes"
indexes="${TFJS_LORA_PIP_INDEXES:-$(python3 -m pip config get global.extra-index-url 2>/dev/null || true) $(python3 -m pip config get global.index-url 2>/dev/null || true)}"
[ -n "${indexes// /}" ] || problem "no pip index configured (pip config get global.extra-index-url is empty)"
log "  indexes: $indexes"
set +e
# shellcheck disable=SC2086
plan="$(python3 "$here/gpu-wheels.py" plan $indexes)"
plan_rc=$?
set -e
echo "$plan" | sed 's/^/build:native:gpu:   /'
[ "$plan_rc" = 0 ] || [ "$plan_rc" = 3 ] || { log "FAILED to read the indexes"; exit 1; }
[ "$plan_rc" = 0 ] || problem "$(echo "$plan" | grep -c '^missing') wheel(s) not in the pip indexes: $(echo "$plan" | awk '/^missing/ {printf "%s%s%s", sep, $2, $3; sep=", "}')"

libdirs_of() { find "$cache/nvidia" -mindepth 2 -maxdepth 2 -type d -name lib 2>/dev/null | sort | tr '\n' ':' | sed 's/:$//'; }

if [ "$dry" = 1 ]; then
  step "would download each found wheel with 'pip download --no-deps --only-binary=:all: --index-url <its index> NAME==VERSION' into $cache/wheels, and check the tensorflow wheel's own [and-cuda] list (gpu-wheels.py and-cuda)"
  step "would extract libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the binding's C API headers into $cache/$tfname (extract-tensorflow-wheel.py)"
  step "would extract nvidia/<part>/lib/* of the NVIDIA wheels into $cache/nvidia (gpu-wheels.py extract-nvidia)"
  step "would write $cache/env.sh: LD_LIBRARY_PATH=<every $cache/nvidia/*/lib>, TFJS_LORA_NATIVE_DIR=$cache"
  step "would copy @tensorflow/tfjs-node-gpu to $cache/tfjs-node-gpu (deps/lib -> ../../$tfname/lib) and run node-pre-gyp install --build-from-source (npm_config_nodedir=$nodedir)"
  step "would load the copy with env.sh, run a matMul on the 'tensorflow' backend and print 'GPU: present' or 'GPU: absent'"
  if command -v nvidia-smi >/dev/null 2>&1; then log "  nvidia-smi: $(nvidia-smi -L 2>&1 | head -1)"; else log "  nvidia-smi: not found (no NVIDIA driver here: the build would report GPU: absent)"; fi
  if [ "${#problems[@]}" -gt 0 ]; then
    log "dry run: NOT READY (${#problems[@]} problem(s)): ${problems[*]}"
    exit 1
  fi
  log "dry run: ready"
  exit 0
fi

step "download the wheels into $cache/wheels"
mkdir -p "$cache/wheels"
while read -r status name version _size url; do
  [ "$status" = found ] || continue
  file="$(basename "${url%%#*}")"
  if [ -f "$cache/wheels/$file" ]; then log "  reusing $file"; continue; fi
  index="${url%%/files/*}" # PEP 503 file indexes keep the wheels next to simple/; try every index otherwise
  ok=0
  for i in $indexes; do
    python3 -m pip download -q --no-deps --only-binary=:all: --index-url "$i" -d "$cache/wheels" "$name==$version" >/dev/null 2>&1 && { ok=1; break; }
  done
  [ "$ok" = 1 ] || { log "FAILED to download $name==$version (seen at $index)"; exit 1; }
  log "  downloaded $name $version"
done <<<"$plan"
tfwheel="$(ls "$cache"/wheels/tensorflow-"$TF_VERSION"-*.whl | head -1)"
expected="$(python3 -c 'import importlib.util as u, sys; s = u.spec_from_file_location("g", sys.argv[1]); g = u.module_from_spec(s); s.loader.exec_module(g); print("\n".join(f"{n} {v}" for n, v in g.AND_CUDA))' "$here/gpu-wheels.py")"
actual="$(python3 "$here/gpu-wheels.py" and-cuda "$tfwheel")"
[ "$expected" = "$actual" ] || log "  note: $(basename "$tfwheel")'s [and-cuda] list differs from gpu-wheels.py's; its own list: $(echo "$actual" | tr '\n' ';')"

step "extract libtensorflow from $(basename "$tfwheel") into $cache/$tfname"
if [ -f "$cache/$tfname/.complete" ]; then
  log "  reusing $cache/$tfname"
else
  rm -rf "${cache:?}/$tfname" && mkdir -p "$cache/$tfname"
  python3 "$here/extract-tensorflow-wheel.py" "$tfwheel" "$src_gpu/binding" "$cache/$tfname"
  ln -sf libtensorflow_cc.so.2 "$cache/$tfname/lib/libtensorflow.so.2"
  ln -sf libtensorflow.so.2 "$cache/$tfname/lib/libtensorflow.so"
  ln -sf libtensorflow_framework.so.2 "$cache/$tfname/lib/libtensorflow_framework.so"
  touch "$cache/$tfname/.complete"
fi

step "extract the NVIDIA libraries into $cache/nvidia"
if [ -f "$cache/nvidia/.complete" ]; then
  log "  reusing $cache/nvidia"
else
  rm -rf "$cache/nvidia"
  python3 "$here/gpu-wheels.py" extract-nvidia "$cache/nvidia" "$cache"/wheels/nvidia_*.whl | sed 's/^/build:native:gpu:   /'
  touch "$cache/nvidia/.complete"
fi

step "write $cache/env.sh"
{
  echo "# Written by build:native:gpu: source it (. $cache/env.sh) before Node to use this GPU build."
  echo "export LD_LIBRARY_PATH=\"$(libdirs_of)\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
  echo "export TFJS_LORA_NATIVE_DIR=\"$cache\""
} >"$cache/env.sh"
log "  LD_LIBRARY_PATH gets $(libdirs_of | tr ':' '\n' | grep -c .) nvidia lib folder(s)"

step "build tfjs_binding.node in $cache/tfjs-node-gpu"
# shellcheck source=native-stage.sh
. "$here/native-stage.sh"
binding="lib/napi-v8/tfjs_binding.node"
stamp="tfjs-node-gpu+tensorflow-$TF_VERSION-gpu+node-$(node -p 'process.versions.modules')"
if [ -f "$cache/tfjs-node-gpu/$binding" ] && [ "$(cat "$cache/tfjs-node-gpu/.stamp" 2>/dev/null)" = "$stamp" ]; then
  log "  reusing $cache/tfjs-node-gpu/$binding"
else
  stage "$src_gpu" "$cache/tfjs-node-gpu" "$tfname"
  log "  compiling (about 45 s)"
  (cd "$cache/tfjs-node-gpu" && npm_config_nodedir="$nodedir" node "$pregyp" install --build-from-source --loglevel=warn >"$cache/tfjs-node-gpu/build.log" 2>&1) || {
    tail -30 "$cache/tfjs-node-gpu/build.log"
    log "FAILED to compile tfjs_binding.node (full log: $cache/tfjs-node-gpu/build.log)" >&2
    exit 1
  }
  rm -rf "$cache/tfjs-node-gpu/build"
  echo "$stamp" >"$cache/tfjs-node-gpu/.stamp"
fi

step "smoke test: load the copy with env.sh, one matMul, is TensorFlow on a GPU?"
if ! out="$(cd "$pkg" && . "$cache/env.sh" && TF_CPP_MIN_LOG_LEVEL=2 node -e '
  const tf = require(process.argv[1]);
  const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0];
  if (tf.getBackend() !== "tensorflow" || y !== 11) throw new Error(`backend ${tf.getBackend()}, [1 2]·[3 4] = ${y}`);
  const gpu = tf.backend().isUsingGpuDevice === true;
  console.log(`tfjs-node-gpu loads from ${process.argv[1]} (TensorFlow ${tf.backend().binding.TF_Version}); [1 2]·[3 4] = 11; GPU: ${gpu ? "present" : "absent (TensorFlow found no GPU device)"}`);
' "$cache/tfjs-node-gpu" 2>&1)"; then
  echo "$out" | tail -20
  log "FAILED: the built binding does not load (see above)" >&2
  exit 1
fi
log "ok: $(echo "$out" | tail -1)"
log "use it: . $cache/env.sh"
