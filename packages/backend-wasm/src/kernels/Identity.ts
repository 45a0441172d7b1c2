import * as tf from '@tensorflow/tfjs-core';
import type { Info, KernelParams } from './kernel-scope.js';

/**
 * A no-copy `Identity` for wasm: the output shares the input's buffer and raises its reference count
 * (as the cpu and webgl backends do), where tfjs-backend-wasm 4.22 copies. tfjs clones every tensor it
 * saves for backprop through this kernel, so frozen weights were copied every step and got fresh ids
 * (which also defeated XNNPACK's operator cache, keyed by id). Disposing either tensor only drops a
 * reference; the buffer is freed with the last one.
 */
export function identity(params: KernelParams): Info {
  const x = (params.inputs as { x: Info }).x;
  (params.backend as tf.KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Registration of {@link identity} for 'wasm' (replaces tfjs-backend-wasm's). */
export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity,
};
