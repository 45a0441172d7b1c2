// Whether the active tfjs backend can read tensor data synchronously without stalling a GPU.
// tfjs-backend-webgpu's dataSync throws in Node (no OffscreenCanvas) and stalls the GPU in browsers, and
// webgl's stalls as well: library code that must read to decide offers an async form and, where a
// synchronous form stays, refuses on these backends with an error naming the async one.
import * as tf from '@tensorflow/tfjs-core';

import { LoraError } from './errors/index.js';

/** tfjs backends whose tensors live in host memory, so a synchronous read is a copy, not a GPU stall. */
const HOST_BACKENDS = new Set(['cpu', 'wasm', 'tensorflow']);

/** True when the active tfjs backend (cpu, wasm, tensorflow) reads synchronously from host memory. */
export function canReadSync(): boolean {
  return HOST_BACKENDS.has(tf.getBackend());
}

/**
 * Throws a LoraError naming `asyncForm` unless the active backend can read synchronously; `what` is the
 * synchronous call that needs the read.
 */
export function requireSyncRead(what: string, asyncForm: string): void {
  if (canReadSync()) return;
  throw new LoraError(
    `${what} reads tensor data synchronously, which the '${tf.getBackend()}' backend cannot do without ` +
      `stalling the GPU (or at all, in Node); expected a cpu, wasm or tensorflow backend. Use ${asyncForm} instead.`,
  );
}
