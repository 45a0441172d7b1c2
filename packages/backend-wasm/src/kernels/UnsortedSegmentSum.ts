import * as tf from '@tensorflow/tfjs-core';
import { composedWasmKernel, type Info, type KernelParams } from './kernel-scope.js';

/**
 * `UnsortedSegmentSum` for the wasm backend (which lacks it; it is the gradient of `gather`, so
 * embedding training needs it): out[s, …] = Σ_{i : ids[i] = s} x[i, …], as wasm's `ScatterNd`, which
 * adds the updates of repeated indices. `segmentIds` may have any rank ≤ x's (its shape must be x's
 * leading dimensions). Ids outside [0, numSegments) are dropped, as TensorFlow and the cpu backend do:
 * their rows are multiplied by 0 and sent to segment 0 (the ids are read on the CPU side, which is
 * cheap: they are small integer tensors already in wasm memory).
 */
export function unsortedSegmentSum(params: KernelParams): Info {
  return composedWasmKernel<tf.UnsortedSegmentSumAttrs>(params, ({ x, segmentIds }, { numSegments }, s) => {
    const count = tf.util.sizeFromShape(segmentIds.shape);
    const rest = x.shape.slice(segmentIds.shape.length);
    const inner = tf.util.sizeFromShape(rest);
    const ids = s.backend.readSync(segmentIds.dataId) as Int32Array;
    let updates = s.reshape(x, [count, inner]);
    let indices = s.reshape(segmentIds, [count, 1]);
    const bad = ids.findIndex((id) => id < 0 || id >= numSegments);
    if (bad >= 0) {
      const clean = Int32Array.from(ids, (id) => (id >= 0 && id < numSegments ? id : 0));
      const keep =
        x.dtype === 'int32'
          ? Int32Array.from(ids, (id) => (id >= 0 && id < numSegments ? 1 : 0))
          : Float32Array.from(ids, (id) => (id >= 0 && id < numSegments ? 1 : 0));
      indices = s.constant(clean, [count, 1], 'int32');
      const mask = s.constant(keep, [count, 1], x.dtype === 'int32' ? 'int32' : 'float32');
      updates = s.run('Multiply', { a: updates, b: mask });
    }
    const out = s.run('ScatterNd', { indices, updates }, { shape: [numSegments, inner] });
    return s.reshape(out, [numSegments, ...rest]);
  });
}

/** Registration of {@link unsortedSegmentSum} for 'wasm'. */
export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
