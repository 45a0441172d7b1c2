import * as tf from '@tensorflow/tfjs-core';
import { LoraError } from '@tfjs-lora/core';

const originals = new Map<string, tf.KernelConfig>();

/**
 * Replaces a kernel that tfjs-backend-wasm has with a faster one, keeping the original (and its
 * `setupFunc`, which binds the wasm function at backend start) so the replacement can delegate to it.
 * Idempotent. Needs @tensorflow/tfjs-backend-wasm imported first (its kernels register on import).
 */
export function overrideWasmKernel(config: tf.KernelConfig): boolean {
  if (originals.has(config.kernelName)) return false;
  const original = tf.getKernel(config.kernelName, 'wasm');
  if (!original) {
    throw new LoraError(
      `Cannot speed up '${config.kernelName}' on wasm: expected tfjs-backend-wasm's own kernel to be registered; found none. ` +
        `Import @tensorflow/tfjs-backend-wasm first.`,
    );
  }
  originals.set(config.kernelName, { ...original });
  tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel({ ...config, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc });
  return true;
}

/** tfjs-backend-wasm's own kernel function for a kernel this package replaced. */
export function originalKernel(kernelName: string): tf.KernelFunc {
  const config = originals.get(kernelName);
  if (!config)
    throw new LoraError(
      `No original wasm kernel '${kernelName}' was kept; overrideWasmKernel() was not called for it.`,
    );
  return config.kernelFunc;
}
