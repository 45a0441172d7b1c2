// Test/bench helper: the fastest backend this checkout can use for training convolutions. The wasm
// backend needs @tfjs-lora/backend-wasm's training kernels (a dev dependency of this package).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tfjs-lora/core';

/** Activates `name` ('wasm' registers @tfjs-lora/backend-wasm first); returns why not, or null. */
export async function tryBackend(name: 'wasm' | 'cpu'): Promise<string | null> {
  try {
    if (name === 'wasm') await import('@tfjs-lora/backend-wasm');
    await useBackend(name);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** wasm when available, else cpu (printing why); returns the backend in use. */
export async function fastestBackend(): Promise<'wasm' | 'cpu'> {
  const why = await tryBackend('wasm');
  if (why === null) return 'wasm';
  console.warn(`wasm backend unavailable (${why.split('\n')[0]}); using cpu`);
  await useBackend('cpu');
  if (tf.getBackend() !== 'cpu') throw new Error('test setup: cpu backend did not activate');
  return 'cpu';
}
