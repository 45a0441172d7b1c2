// tfjs-layers' Orthogonal initializer (the default recurrent initializer of LSTM and GRU) calls chained
// tensor methods (`r.flatten().stridedSlice(...)`, `.sign()`, `.transpose()`, `.reshape()`) that only the
// @tensorflow/tfjs union package registers; with tfjs-core + tfjs-layers alone, building an LSTM throws
// "flatten is not a function". This adds those few methods when they are absent (as the union package does),
// so Keras recurrent models build, and rebuild in applyLora.
import * as tf from '@tensorflow/tfjs-core';

type Method = (this: tf.Tensor, ...args: never[]) => tf.Tensor;

const METHODS: Record<string, Method> = {
  flatten(this: tf.Tensor) {
    return tf.reshape(this, [this.size]);
  },
  stridedSlice(this: tf.Tensor, begin: number[], end: number[], strides: number[]) {
    return tf.stridedSlice(this, begin, end, strides);
  },
  sign(this: tf.Tensor) {
    return tf.sign(this);
  },
  transpose(this: tf.Tensor, perm?: number[]) {
    return tf.transpose(this, perm);
  },
  reshape(this: tf.Tensor, shape: number[]) {
    return tf.reshape(this, shape);
  },
};

let done = false;

/** Adds the chained methods tfjs-layers' initializers use to tf.Tensor when they are missing. Idempotent. */
export function ensureTensorMethods(): void {
  if (done) return;
  done = true;
  const proto = tf.Tensor.prototype as unknown as Record<string, Method | undefined>;
  for (const [name, fn] of Object.entries(METHODS)) if (typeof proto[name] !== 'function') proto[name] = fn;
}
