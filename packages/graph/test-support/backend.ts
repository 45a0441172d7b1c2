// Test helper: run a suite on cpu and on wasm (with @tfjs-lora/backend-wasm's training kernels).
import '@tensorflow/tfjs-backend-cpu';
import { useBackend } from '@tfjs-lora/core';

/** The backends graph tests run on. */
export const BACKENDS = ['cpu', 'wasm'] as const;

/** Activates `name` ('wasm' registers @tfjs-lora/backend-wasm first); returns why not, or null. */
export async function tryBackend(name: (typeof BACKENDS)[number]): Promise<string | null> {
  try {
    if (name === 'wasm') await import('@tfjs-lora/backend-wasm');
    await useBackend(name);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
