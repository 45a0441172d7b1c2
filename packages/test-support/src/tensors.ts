// Comparisons the tests share.
import * as tf from '@tensorflow/tfjs-core';

/** Max |a - b| over all elements; throws when the shapes differ. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  if (!tf.util.arraysEqual(a.shape, b.shape)) throw new Error(`shape mismatch ${a.shape} vs ${b.shape}`);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}
