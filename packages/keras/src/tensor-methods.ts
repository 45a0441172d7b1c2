// tfjs-layers' Orthogonal initializer (the default recurrent initializer of LSTM and GRU) calls chained
// tensor methods (`r.flatten().stridedSlice(...)`, `.sign()`, `.transpose()`, `.reshape()`) that only the
// @tensorflow/tfjs union package registers; with tfjs-core + tfjs-layers alone, building an LSTM throws
// "flatten is not a function". This adds those few methods when they are absent (as the union package does),
// so Keras recurrent models build, and rebuild in applyLora.
import * as tf from '@tensorflow/tfjs-core';

type Methods = Record<string, ((this: tf.Tensor, ...args: never[]) => tf.Tensor) | undefined>;

let done = false;

/** Adds the chained methods tfjs-layers' initializers use to tf.Tensor when they are missing. Idempotent. */
export function ensureTensorMethods(): void {
  if (done) return;
  done = true;
  const proto = tf.Tensor.prototype as unknown as Methods;
  const add = (name: string, fn: (this: tf.Tensor, ...args: never[]) => tf.Tensor): void => {
    if (typeof proto[name] !== 'function') proto[name] = fn;
  };
  add('flatten', function () {
    return tf.reshape(this, [this.size]);
  });
  add('stridedSlice', function (begin: number[], end: number[], strides: number[]) {
    return tf.stridedSlice(this, begin, end, strides);
  } as never);
  add('sign', function () {
    return tf.sign(this);
  });
  add('transpose', function (perm?: number[]) {
    return tf.transpose(this, perm);
  } as never);
  add('reshape', function (shape: number[]) {
    return tf.reshape(this, shape);
  } as never);
}
