import * as tf from '@tensorflow/tfjs-core';
import { type FactorInit, type FactorName, type InitLoraWeights } from '@tfjs-lora/core';
import { initDenseLora } from '@tfjs-lora/core/math';

/**
 * The exactly-mergeable low-rank update of a depthwise kernel D [kh, kw, C, M] (C input channels, depth
 * multiplier M). D is read as a matrix [kh·kw, C·M] (spatial taps × output channels) and
 * ΔD = A·B with A [kh·kw, r] (r spatial basis filters, stored [kh, kw, r]) and B [r, C·M] (how much of
 * each basis filter every output channel takes, stored [r, C, M]). ΔD has D's shape, so
 * `D + scaling·ΔD` is again a depthwise kernel: merging is exact, and the forward pass is one depthwise
 * convolution with the combined kernel. Useful ranks are r ≤ kh·kw (9 for 3×3); the adapter has
 * r·(kh·kw + C·M) parameters against kh·kw·C·M.
 */
export function depthwiseDelta(loraA: tf.Tensor, loraB: tf.Tensor): tf.Tensor {
  const [kh, kw, r] = loraA.shape;
  const [, c, m] = loraB.shape;
  const a = tf.reshape(loraA, [kh * kw, r]) as tf.Tensor2D;
  const b = tf.reshape(loraB, [r, c * m]) as tf.Tensor2D;
  return tf.reshape(tf.matMul(a, b), [kh, kw, c, m]);
}

/** Factor shapes for a depthwise kernel of shape [kh, kw, C, M]. */
export function depthwiseFactorShapes(kernelShape: number[], r: number): { loraA: number[]; loraB: number[] } {
  const [kh, kw, c, m] = kernelShape;
  return { loraA: [kh, kw, r], loraB: [r, c, m] };
}

/**
 * Initial factors, as for a Dense layer on the matricised kernel [kh·kw, C·M] (so `true` draws A with
 * PyTorch's kaiming-uniform, fan-in kh·kw, and zeros B; 'gaussian', false, PiSSA and OLoRA carry over).
 */
export function initDepthwiseFactors(
  kernel: tf.Tensor,
  r: number,
  scaling: number,
  mode: InitLoraWeights,
  seed?: number,
): FactorInit {
  const [kh, kw, c, m] = kernel.shape;
  const [loraA, loraB, residualKernel] = tf.tidy(() => {
    const init = initDenseLora(tf.reshape(kernel, [kh * kw, c * m]) as tf.Tensor2D, r, scaling, mode, { seed });
    const a = tf.reshape(init.loraA, [kh, kw, r]);
    const b = tf.reshape(init.loraB, [r, c, m]);
    return init.residualKernel ? [a, b, tf.reshape(init.residualKernel, kernel.shape)] : [a, b];
  });
  return residualKernel ? { loraA, loraB, residualKernel } : { loraA, loraB };
}

/**
 * The factors in PyTorch axis order (there is no PEFT counterpart for depthwise kernels; this layout
 * is tfjs-lora's own): A [kh, kw, r] ↔ [r, kh, kw] (like conv weights of r filters), B [r, C, M] ↔
 * [C·M, r] (like a Linear weight [out, r]).
 */
export function depthwiseToTorch(factor: FactorName, t: tf.Tensor): tf.Tensor {
  if (factor === 'loraA') return tf.transpose(t, [2, 0, 1]);
  const [r, c, m] = t.shape;
  return tf.transpose(tf.reshape(t, [r, c * m]));
}

/** Inverse of {@link depthwiseToTorch}; `kernelShape` [kh, kw, C, M] gives C and M. */
export function depthwiseFromTorch(factor: FactorName, t: tf.Tensor, kernelShape: number[]): tf.Tensor {
  if (factor === 'loraA') return tf.transpose(t, [1, 2, 0]);
  const [, , c, m] = kernelShape;
  const [, r] = t.shape;
  return tf.reshape(tf.transpose(t), [r, c, m]);
}
