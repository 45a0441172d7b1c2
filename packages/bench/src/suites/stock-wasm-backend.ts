// Stock @tensorflow/tfjs-backend-wasm behind a minimal LoraBackend: core's LoRA on tfjs's own wasm kernels
// (the baseline of the core-mlp and core-fit benchmarks; @tfjs-lora/backend-wasm adds faster kernels).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { LoraBackend } from '@tfjs-lora/core';

/** The wasm backend from @tensorflow/tfjs-backend-wasm, with its .wasm files found beside its bundle. */
export const wasmBackend: LoraBackend = {
  name: 'wasm',
  tfBackend: 'wasm',
  priority: 10,
  async isAvailable() {
    try {
      createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
      return { ok: true };
    } catch {
      return { ok: false, reason: '@tensorflow/tfjs-backend-wasm is not installed' };
    }
  },
  async init() {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  },
};
