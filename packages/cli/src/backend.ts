import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tfjs-lora/core';

let ready: Promise<unknown> | null = null;

/**
 * Selects a TensorFlow.js backend once (the best registered one; cpu is always there). Production mode
 * keeps tfjs's console banners (the tfjs-node advice) out of the command's output.
 */
export function ensureBackend(): Promise<unknown> {
  if (ready === null) tf.enableProdMode();
  ready ??= useBackend('auto');
  return ready;
}
