// The backends the demo offers, registered in core's registry: cpu (built into core), wasm (with the
// training kernels of @tfjs-lora/backend-wasm, .wasm files served from this app), webgpu
// (@tfjs-lora/backend-webgpu), and webgl, which core has no plugin for: a small LoraBackend defined here
// (plain tfjs-backend-webgl on an OffscreenCanvas, no fused LoRA kernels; core composes tfjs ops).
// (cpu: core imports @tensorflow/tfjs-backend-cpu itself when the cpu backend is first used.)
import { listLoraBackends, registerLoraBackend, type Availability, type LoraBackend } from '@tfjs-lora/core';
import { MAX_WASM_THREADS, registerWasmBackend } from '@tfjs-lora/backend-wasm';
import { registerWebgpuBackend } from '@tfjs-lora/backend-webgpu';
import type { BackendStatus } from '../protocol.js';

/** Every backend the picker lists, in the picker's order. */
export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

async function webglAvailability(): Promise<Availability> {
  if (typeof OffscreenCanvas === 'undefined')
    return {
      ok: false,
      reason: 'OffscreenCanvas is undefined in this worker, so WebGL cannot run off the main thread',
    };
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl)
      return {
        ok: false,
        reason:
          "OffscreenCanvas.getContext('webgl2') returned null (WebGL2 disabled or no GPU/SwiftShader for WebGL here)",
      };
    (gl.getExtension('WEBGL_lose_context') as { loseContext(): void } | null)?.loseContext();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `creating a WebGL2 context threw: ${(e as Error).message}` };
  }
}

/** tfjs-backend-webgl as a LoRA backend (priority 20: below webgpu, above wasm). */
export const webglBackend: LoraBackend = {
  name: 'webgl',
  tfBackend: 'webgl',
  priority: 20,
  isAvailable: webglAvailability,
  async init() {
    await import('@tensorflow/tfjs-backend-webgl'); // registers 'webgl' with tfjs on import
  },
};

let registered = false;

/**
 * Registers the four backends once; `origin` is where the app serves `tfjs-wasm/*.wasm`, `wasmThreads`
 * the wasm thread count asked for with `?threads=N` (1: tfjs's single-threaded build; clamped to 1–8).
 * Without it, @tfjs-lora/backend-wasm's default: one thread per logical core (at most 8) where the
 * worker is cross-origin isolated, one elsewhere; it also lifts tfjs's cores / 2 cap.
 */
export function registerDemoBackends(origin: string, wasmThreads?: number): void {
  if (registered) return;
  registered = true;
  const threads =
    wasmThreads === undefined ? undefined : Math.min(Math.max(Math.floor(wasmThreads), 1), MAX_WASM_THREADS);
  registerWasmBackend({ wasmPaths: `${origin}/tfjs-wasm/`, ...(threads === undefined ? {} : { threads }) });
  registerWebgpuBackend();
  registerLoraBackend(webglBackend);
}

/** Core's availability verdict for each backend (never throws). */
export async function backendStatuses(): Promise<BackendStatus[]> {
  const registry = new Map(listLoraBackends().map((b) => [b.name, b]));
  return Promise.all(
    BACKEND_NAMES.map(async (name): Promise<BackendStatus> => {
      const b = registry.get(name);
      if (!b) return { name, ok: false, reason: 'not registered' };
      const a = await b.isAvailable();
      return a.ok ? { name, ok: true } : { name, ok: false, reason: a.reason };
    }),
  );
}
