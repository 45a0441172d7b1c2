// Test-only: brings up the 'webgpu' LoRA backend for *.gpu.test.ts files, or says why it cannot.
import '@tensorflow/tfjs-backend-cpu';
import { webgpuBackend, registerWebgpuBackend } from '../src/webgpu-backend.js';

/** Set to 1 (CI) to make a missing WebGPU environment a failure instead of a printed skip. */
export const REQUIRE_ENV = 'TFJS_LORA_REQUIRE_WEBGPU';

/**
 * Registers the backend with every op kept on the GPU (CPU hand-off threshold 0) and checks that it is
 * available. When it is not: throws if TFJS_LORA_REQUIRE_WEBGPU=1, else prints `SKIP <file>: <reason>`.
 */
export async function webgpuTestEnvironment(file: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  registerWebgpuBackend({ cpuHandoffThreshold: 0 });
  const avail = await webgpuBackend.isAvailable();
  if (avail.ok) return avail;
  if (process.env[REQUIRE_ENV] === '1')
    throw new Error(`${file}: WebGPU is required (${REQUIRE_ENV}=1) but unavailable: ${avail.reason}`);
  console.warn(`SKIP ${file}: WebGPU unavailable here: ${avail.reason}`);
  return avail;
}

export { seededValues } from '@tfjs-lora/core/random';
