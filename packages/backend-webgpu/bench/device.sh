#!/usr/bin/env bash
# Moved: the WebGPU benchmark and its device script live in packages/bench (see packages/bench/README.md).
# This path keeps working for older notes: it forwards to packages/bench/scripts/webgpu-device.sh.
exec bash "$(dirname "$0")/../../bench/scripts/webgpu-device.sh" "$@"
