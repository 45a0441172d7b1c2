// The wasm backend for core's examples. Core cannot use @tfjs-lora/backend-wasm
// (that package depends on core), so this minimal LoraBackend stands in for it here.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { LoraBackend } from '../src/index.js';

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
