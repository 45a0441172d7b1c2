#!/usr/bin/env bash
# Builds the tfjs-node native binding (tfjs_binding.node) from source against the libtensorflow of the
# tensorflow-cpu 2.21.0 wheel in the machine's local Python package index, into a cache folder:
#
#   $TFJS_LORA_NATIVE_DIR (default <repo>/.cache/tfjs-native)/
#     tensorflow-2.21.0/{lib,include}   libtensorflow_cc.so.2, libtensorflow_framework.so.2, C API headers
#     tfjs-node/                        a copy of @tensorflow/tfjs-node 4.22.0 with lib/napi-v8/tfjs_binding.node,
#     tfjs-node-gpu/                    deps/lib -> ../tensorflow-2.21.0/lib, node_modules/ -> the installed deps
#
# The installed packages in node_modules (pnpm hardlinks into its store) are never modified. The plugin
# finds the copies through TFJS_LORA_NATIVE_DIR or by looking for .cache/tfjs-native above itself.
# The tfjs-node-gpu copy gets the same binding (identical sources) on CPU libtensorflow: it lets tests run
# the 'cuda' code path with TFJS_LORA_CUDA_ALLOW_CPU=1; it never sees a GPU.
#
# Reruns reuse the cache (a few seconds). Exits 0 with "skipped: <why>" when the wheel or a toolchain
# piece is missing; exits non-zero only when a present toolchain fails to build.
set -euo pipefail

TF_VERSION=2.21.0
TFJS_VERSION=4.22.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkg="$(dirname "$here")"
repo="$(cd "$pkg/../.." && pwd)"
cache="${TFJS_LORA_NATIVE_DIR:-$repo/.cache/tfjs-native}"
tfdir="$cache/tensorflow-$TF_VERSION"
log() { echo "build:native: $*"; }
skip() { echo "build:native: skipped: $*"; exit 0; }

# 1. Toolchain.
for tool in node python3 make g++; do
  command -v "$tool" >/dev/null 2>&1 || skip "'$tool' is not installed (needed to build tfjs_binding.node)"
done
python3 -m pip --version >/dev/null 2>&1 || skip "pip is not available (python3 -m pip), so the tensorflow-cpu wheel cannot be fetched"
nodedir="${npm_config_nodedir:-/usr}"
[ -f "$nodedir/include/node/node_api.h" ] || skip "Node's headers are not at $nodedir/include/node (install Debian's libnode-dev or set npm_config_nodedir)"
napi="$(node -p 'process.versions.napi')"
[ "$napi" -ge 8 ] || skip "Node $(node --version) has N-API $napi; the binding is built for napi-v8"
src_cpu="$(cd "$pkg" && node -p "require('path').dirname(require.resolve('@tensorflow/tfjs-node/package.json'))" 2>/dev/null)" ||
  skip "@tensorflow/tfjs-node is not installed in $pkg/node_modules (pnpm install)"
src_gpu="$(cd "$pkg" && node -p "require('path').dirname(require.resolve('@tensorflow/tfjs-node-gpu/package.json'))" 2>/dev/null)" || src_gpu=""
pregyp="$(cd "$src_cpu" && node -p "require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp')" 2>/dev/null)" ||
  skip "@mapbox/node-pre-gyp (a dependency of @tensorflow/tfjs-node) is not installed"
command -v node-gyp >/dev/null 2>&1 || [ -d "$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp" ] ||
  skip "node-gyp is not available (it ships with npm)"

# 2. libtensorflow + headers from the wheel (about 850 MB of libraries; kept in the cache).
if [ -f "$tfdir/.complete" ]; then
  log "reusing $tfdir"
else
  index_urls="$(python3 -m pip config get global.extra-index-url 2>/dev/null || true) $(python3 -m pip config get global.index-url 2>/dev/null || true)"
  [ -n "${index_urls// /}" ] || skip "pip has no index configured (pip config get global.extra-index-url is empty), so tensorflow-cpu==$TF_VERSION cannot be found"
  dl="$(mktemp -d "${TMPDIR:-/tmp}/tfjs-native-wheel.XXXXXX")"
  trap 'rm -rf "$dl"' EXIT
  wheel=""
  for url in $index_urls; do
    if python3 -m pip download -q --no-deps --only-binary=:all: --index-url "$url" -d "$dl" "tensorflow-cpu==$TF_VERSION" >/dev/null 2>&1; then
      wheel="$(ls "$dl"/tensorflow_cpu-*.whl 2>/dev/null | head -1)"
      [ -n "$wheel" ] && break
    fi
  done
  [ -n "$wheel" ] || skip "no tensorflow-cpu==$TF_VERSION wheel in the pip indexes ($index_urls)"
  log "extracting $(basename "$wheel")"
  rm -rf "$tfdir" && mkdir -p "$tfdir"
  python3 "$here/extract-tensorflow-wheel.py" "$wheel" "$src_cpu/binding" "$tfdir"
  ln -sf libtensorflow_cc.so.2 "$tfdir/lib/libtensorflow.so.2"
  ln -sf libtensorflow.so.2 "$tfdir/lib/libtensorflow.so"
  ln -sf libtensorflow_framework.so.2 "$tfdir/lib/libtensorflow_framework.so"
  touch "$tfdir/.complete"
  rm -rf "$dl"
fi

# 3. A copy of the tfjs-node package beside the libraries; its dependencies link to the installed ones.
# shellcheck source=native-stage.sh
. "$here/native-stage.sh"

binding="lib/napi-v8/tfjs_binding.node"
stamp="tfjs-$TFJS_VERSION+tensorflow-$TF_VERSION+node-$(node -p 'process.versions.modules')"
if [ -f "$cache/tfjs-node/$binding" ] && [ "$(cat "$cache/tfjs-node/.stamp" 2>/dev/null)" = "$stamp" ]; then
  log "reusing $cache/tfjs-node/$binding"
else
  stage "$src_cpu" "$cache/tfjs-node" "tensorflow-$TF_VERSION"
  log "compiling tfjs_binding.node (about 45 s)"
  (cd "$cache/tfjs-node" && npm_config_nodedir="$nodedir" node "$pregyp" install --build-from-source --loglevel=warn >"$cache/tfjs-node/build.log" 2>&1) || {
    tail -30 "$cache/tfjs-node/build.log"
    echo "build:native: FAILED to compile tfjs_binding.node (full log: $cache/tfjs-node/build.log)" >&2
    exit 1
  }
  rm -rf "$cache/tfjs-node/build"
  echo "$stamp" >"$cache/tfjs-node/.stamp"
fi

if [ -z "$src_gpu" ]; then
  log "@tensorflow/tfjs-node-gpu is not installed: no tfjs-node-gpu copy (the 'cuda' tests will skip)"
elif [ -f "$cache/tfjs-node-gpu/$binding" ] && [ "$(cat "$cache/tfjs-node-gpu/.stamp" 2>/dev/null)" = "$stamp" ]; then
  log "reusing $cache/tfjs-node-gpu/$binding"
else
  diff -rq "$src_cpu/binding" "$src_gpu/binding" >/dev/null || skip "tfjs-node-gpu's binding sources differ from tfjs-node's; not reusing the CPU build for it"
  stage "$src_gpu" "$cache/tfjs-node-gpu" "tensorflow-$TF_VERSION"
  mkdir -p "$cache/tfjs-node-gpu/$(dirname "$binding")"
  cp "$cache/tfjs-node/$binding" "$cache/tfjs-node-gpu/$binding"
  echo "$stamp" >"$cache/tfjs-node-gpu/.stamp"
fi

# 4. Smoke test: load the copy, run one matMul on the 'tensorflow' backend (TensorFlow's C++ logging hidden).
if ! out="$(cd "$pkg" && TF_CPP_MIN_LOG_LEVEL=2 node -e '
  const tf = require(process.argv[1]);
  const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0];
  if (tf.getBackend() !== "tensorflow" || y !== 11) throw new Error(`backend ${tf.getBackend()}, [1 2]·[3 4] = ${y}`);
  console.log(`tfjs-node ${tf.version["tfjs-node"]} loads from ${process.argv[1]}; [1 2]·[3 4] = 11 on the tensorflow backend`);
' "$cache/tfjs-node" 2>&1)"; then
  echo "$out" | tail -20
  echo "build:native: FAILED: the built binding does not load (see above)" >&2
  exit 1
fi
log "ok: $(echo "$out" | tail -1)"
