// DoRA on a linear layer with hand-written gradients (PEFT semantics: the weight norm is detached):
// y = (m / ‖W + s·A·B‖) ⊙ (x·W + s·(x·A)·B) + bias, the norm per output unit. The magnitude scale
// m/‖·‖ is one custom operation whose only input is m (dm = Σₙ dy⊙z / ‖·‖); the norm is computed inside
// its forward, which tfjs does not record, so no (zero) gradient is propagated through it. x·W and the
// LoRA branch are loraLinear's custom operations (dx, dA, dB; never dW).
import * as tf from '@tensorflow/tfjs-core';
import { frozenMatMul, loraBranch, recordingGradients } from './lora-linear.js';

/** Arguments of {@link doraLinear}. */
export interface DoraLinearArgs {
  /** Input [..., in]. */
  x: tf.Tensor;
  /** Frozen base kernel [in, out]. */
  kernel: tf.Tensor2D;
  /** LoRA A [in, r]. */
  loraA: tf.Tensor2D;
  /** LoRA B [r, out]. */
  loraB: tf.Tensor2D;
  /** DoRA magnitude vector m [out]. */
  magnitude: tf.Tensor1D;
  /** alpha / r (or alpha / √r). */
  scaling: number;
  /** Optional bias [out] (not rescaled, as in PEFT). */
  bias?: tf.Tensor1D;
}

/** ‖W + s·A·B‖ per output unit (column of the tfjs kernel). */
function columnNorm(kernel: tf.Tensor2D, loraA: tf.Tensor2D, loraB: tf.Tensor2D, scaling: number): tf.Tensor1D {
  return tf.norm(tf.add(kernel, tf.mul(tf.matMul(loraA, loraB), scaling)), 'euclidean', 0) as tf.Tensor1D;
}

/** m / ‖W + s·A·B‖ with the norm detached: its gradient is dm = d(scale) / ‖·‖. */
function magnitudeScale(
  magnitude: tf.Tensor1D,
  kernel: tf.Tensor2D,
  loraA: tf.Tensor2D,
  loraB: tf.Tensor2D,
  scaling: number,
): tf.Tensor1D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const norm = columnNorm(kernel, loraA, loraB, scaling);
    (args[1] as tf.GradSaveFunc)([norm]);
    return {
      value: tf.div(args[0] as tf.Tensor, norm),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.div(dy, saved[0]!)],
    };
  });
  return op(magnitude) as tf.Tensor1D;
}

/**
 * DoRA's forward on a linear layer (PEFT's `DoraLinearLayer` without dropout): `(m/‖W + s·ΔW‖) ⊙
 * (x·W + s·(x·A)·B) + bias`, with hand-written gradients for x, A, B and m (the norm detached, as PEFT)
 * and none for the frozen W. Outside a gradient computation it is the plain forward.
 */
export function doraLinear(args: DoraLinearArgs): tf.Tensor {
  return tf.tidy(() => {
    const { x, kernel, loraA, loraB, magnitude, scaling, bias } = args;
    const inF = x.shape[x.rank - 1] as number;
    const x2 = (x.rank === 2 ? x : tf.reshape(x, [-1, inF])) as tf.Tensor2D;
    let y: tf.Tensor;
    if (recordingGradients()) {
      const z = tf.add(frozenMatMul(x2, kernel), loraBranch(x2, loraA, loraB, scaling));
      y = tf.mul(z, magnitudeScale(magnitude, kernel, loraA, loraB, scaling));
    } else {
      const z = tf.add(tf.matMul(x2, kernel), tf.matMul(tf.mul(tf.matMul(x2, loraA), scaling), loraB));
      y = tf.mul(z, tf.div(magnitude, columnNorm(kernel, loraA, loraB, scaling)));
    }
    if (bias) y = tf.add(y, bias);
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), kernel.shape[1] as number]);
  });
}
