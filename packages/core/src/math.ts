import * as tf from '@tensorflow/tfjs-core';

/**
 * Identity in the forward pass, zero gradient in the backward pass (PyTorch's `detach`). tfjs-core has
 * no stop-gradient op; DoRA needs one for its weight norm.
 */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;

/** Scales `t` by a scalar, skipping the multiply when the factor is 1. */
export function scale(t: tf.Tensor, s: number): tf.Tensor {
  return s === 1 ? t : tf.mul(t, s);
}

/**
 * DoRA's merged weight: `(m / ‖W + ΔW‖) · (W + ΔW)`, the norm taken per output unit (the last axis of a
 * tfjs kernel). `scaledDelta` is `scaling·ΔW`; `norm` computes the per-output norm.
 */
export function doraMergedWeight(
  weight: tf.Tensor,
  scaledDelta: tf.Tensor,
  magnitude: tf.Tensor,
  norm: (w: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const combined = tf.add(weight, scaledDelta);
    return tf.mul(combined, tf.div(magnitude, norm(combined)));
  });
}

/**
 * Multiplies the last axis of x (any rank ≥ 1) by a matrix m [in, out]: x [..., in] → [..., out] (a Dense
 * layer's product, or a 1×1 convolution with stride 1 over channels-last data).
 */
export function dotLast(x: tf.Tensor, m: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, m as tf.Tensor2D);
  const lead = x.shape.slice(0, -1);
  const flat = tf.reshape(x, [-1, x.shape[x.rank - 1] as number]) as tf.Tensor2D;
  return tf.reshape(tf.matMul(flat, m as tf.Tensor2D), [...lead, m.shape[1] as number]);
}
