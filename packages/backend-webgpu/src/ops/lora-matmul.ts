import * as tf from '@tensorflow/tfjs-core';
import { type LoraMatMulArgs } from '@tfjs-lora/core';
import { customGradLoraMatMul, type LoraMatMulPrimitives } from '@tfjs-lora/core/math';
import { LORA_MATMUL, type LoraMatMulAttrs } from '../kernels/lora-matmul.js';

/** Runs the `LoraMatMul` kernel: `p·q + scale2·(p2·q2) + bias` (q, q2 optionally stored transposed). */
export function runLoraMatMul(
  p: tf.Tensor,
  q: tf.Tensor,
  p2: tf.Tensor,
  q2: tf.Tensor,
  attrs: LoraMatMulAttrs,
  bias?: tf.Tensor,
): tf.Tensor2D {
  const inputs: tf.NamedTensorMap = bias ? { p, q, p2, q2, bias } : { p, q, p2, q2 };
  return tf.engine().runKernel(LORA_MATMUL, inputs, attrs) as tf.Tensor2D;
}

/**
 * The fused LoRA matmul for the 'webgpu' backend: `y = x·W + bias + s·(x·A)·B`, with x·A computed once
 * (tfjs matMul, [n, r]) and the low-rank product added in the same output pass as x·W (`LoraMatMul`).
 * Its gradient is core's {@link customGradLoraMatMul} on these kernels: dx in one fused pass
 * (dy·Wᵀ + (s·dy·Bᵀ)·Aᵀ), dA, dB, dbias, and never dW. Equal to core's `composedLoraMatMul` within float32
 * rounding.
 */
export function webgpuLoraMatMul(args: LoraMatMulArgs): tf.Tensor2D {
  return customGradLoraMatMul(args, webgpuPrimitives, 'loraMatMul (webgpu)');
}

const webgpuPrimitives: LoraMatMulPrimitives = {
  matMul: (a, b, transposeA, transposeB) => tf.matMul(a, b, transposeA, transposeB),
  matMulPair: (p, q, p2, q2, { transposeQ, transposeQ2, scale2 }, bias) =>
    runLoraMatMul(p, q, p2, q2, { transposeQ, transposeQ2, scale2 }, bias),
};
