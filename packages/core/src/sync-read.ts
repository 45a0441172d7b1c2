// The one guard for the synchronous forms that stay (cpu/wasm only): on a GPU backend they refuse and name
// the asynchronous form, instead of stalling the GPU (browsers) or throwing deep inside tfjs (WebGPU in Node).
import * as tf from '@tensorflow/tfjs-core';
import { LoraError } from './errors/index.js';

/** tfjs backends whose tensors live on a GPU: a synchronous read there stalls it or is not possible. */
const GPU_BACKENDS = new Set(['webgpu', 'webgl']);

/**
 * Throws a {@link LoraError} naming `asyncForm` when the active tfjs backend keeps tensors on a GPU;
 * `what` is the synchronous call that was made.
 */
export function refuseSyncReadOnGpu(what: string, asyncForm: string): void {
  const backend = tf.getBackend();
  if (GPU_BACKENDS.has(backend)) {
    throw new LoraError(
      `${what} reads tensors synchronously, which the '${backend}' backend cannot do without stalling the GPU ` +
        `(or at all, for WebGPU in Node); expected a cpu, wasm or native backend. Use ${asyncForm} instead.`,
    );
  }
}
