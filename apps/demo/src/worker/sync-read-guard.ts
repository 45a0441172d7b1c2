// The demo reads tensors only with `await t.data()` (issue 14): on webgpu and webgl a synchronous read
// (dataSync, arraySync, bufferSync, or a library doing one inside) stalls the GPU until it finishes, and
// tfjs-backend-webgpu cannot do it at all in Node. This guard makes any such read visible: it wraps the
// active GPU backend's `readSync` and reports each read of data that lives on the GPU with console.error
// and the caller's stack (the read itself still runs, so the demo keeps working). The e2e test fails on any
// console error, so a synchronous GPU read anywhere in the demo or the libraries it calls fails it.
// Reads of values already on the CPU (tfjs's own CPU hand-off for small tensors) are not GPU stalls and
// pass silently.
import * as tf from '@tensorflow/tfjs-core';

/** Backends whose data may live on the GPU. */
const GPU_BACKENDS = new Set(['webgpu', 'webgl']);

/** The per-tensor bookkeeping of tfjs-backend-webgpu (`tensorMap`) and tfjs-backend-webgl (`texData`). */
interface DataStorage {
  get(dataId: object): { values?: unknown } | undefined;
}

interface GuardedBackend {
  readSync(dataId: object): unknown;
  tensorMap?: DataStorage;
  texData?: DataStorage;
}

/**
 * Wraps the active backend's `readSync` when it is a GPU backend (webgpu, webgl); returns whether it did.
 * Call once, after `tf.setBackend` / core's `useBackend` and `tf.ready()`.
 */
export function guardSyncReads(): boolean {
  const name = tf.getBackend();
  if (!GPU_BACKENDS.has(name)) return false;
  const backend = tf.backend() as unknown as GuardedBackend;
  const storage = backend.tensorMap ?? backend.texData;
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object): unknown => {
    if (storage?.get(dataId)?.values == null) {
      const stack = (new Error().stack ?? '').split('\n').slice(2, 12).join('\n');
      console.error(
        `synchronous GPU read on ${name} (dataSync/arraySync/bufferSync stalls the GPU; read with await t.data()):\n${stack}`,
      );
    }
    return readSync(dataId);
  };
  return true;
}
