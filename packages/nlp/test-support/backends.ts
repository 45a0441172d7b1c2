// Test helpers: switch between the cpu backend and the wasm backend of @tfjs-lora/backend-wasm.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tfjs-lora/core';

/** Why wasm training cannot be tested here, or null when it can (wasm initialised and UnsortedSegmentSum registered). */
export async function wasmUnavailable(): Promise<string | null> {
  try {
    await import('@tfjs-lora/backend-wasm');
  } catch (e) {
    return `@tfjs-lora/backend-wasm could not be imported (${(e as Error).message.split('\n')[0]}); build it (pnpm --filter @tfjs-lora/backend-wasm build)`;
  }
  try {
    await useBackend('wasm');
  } catch (e) {
    return `the wasm backend is unavailable: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    await tf.setBackend('cpu');
  }
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    return '@tfjs-lora/backend-wasm registers no UnsortedSegmentSum kernel for wasm (needed for the gather gradient)';
  }
  return null;
}

/** Activates a backend by name and waits until it is ready. */
export async function activate(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') await useBackend('wasm');
  else await tf.setBackend('cpu');
  await tf.ready();
}
