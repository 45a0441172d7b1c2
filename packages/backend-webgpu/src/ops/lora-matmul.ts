import * as tf from '@tensorflow/tfjs-core';
import { type LoraMatMulArgs } from '@tfjs-lora/core';
import { checkLoraMatMulArgs } from '@tfjs-lora/core/math';
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
 * Its gradient (`tf.customGrad`) gives dx (one fused pass: dy·Wᵀ + (s·dy·Bᵀ)·Aᵀ), dA = xᵀ·(s·dy·Bᵀ),
 * dB = (s·x·A)ᵀ·dy and dbias = Σ dy, and never dW: the frozen kernel is not an input of the gradient.
 * Equal to core's `composedLoraMatMul` within float32 rounding.
 */
export function webgpuLoraMatMul(args: LoraMatMulArgs): tf.Tensor2D {
  checkLoraMatMulArgs(args, 'loraMatMul (webgpu)');
  const { kernel, scaling } = args;
  const forward = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor | undefined, save: tf.GradSaveFunc) => {
    const xa = tf.matMul(x as tf.Tensor2D, a as tf.Tensor2D);
    const value = runLoraMatMul(x, kernel, xa, b, { transposeQ: false, transposeQ2: false, scale2: scaling }, bias);
    save([x, a, b, xa, kernel]); // kernel too: a caller's temporary W must outlive the forward scope
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [xs, as, bs, xas, w] = saved as tf.Tensor2D[];
      const dy2 = dy as tf.Tensor2D;
      const dyBt = tf.matMul(dy2, bs, false, true);
      const g = scaling === 1 ? dyBt : tf.mul(dyBt, scaling); // s·dy·Bᵀ [n, r]
      const dx = runLoraMatMul(dy2, w, g, as, { transposeQ: true, transposeQ2: true, scale2: 1 });
      const dA = tf.matMul(xs, g as tf.Tensor2D, true, false);
      const xaScaled = scaling === 1 ? xas : tf.mul(xas, scaling);
      const dB = tf.matMul(xaScaled as tf.Tensor2D, dy2, true, false);
      return bias ? [dx, dA, dB, tf.sum(dy2, 0)] : [dx, dA, dB];
    };
    return { value, gradFunc };
  };
  if (args.bias) {
    const f = tf.customGrad((x, a, b, bias, save) =>
      forward(x as tf.Tensor, a as tf.Tensor, b as tf.Tensor, bias as tf.Tensor, save as tf.GradSaveFunc),
    );
    return f(args.x, args.loraA, args.loraB, args.bias) as tf.Tensor2D;
  }
  const f = tf.customGrad((x, a, b, save) =>
    forward(x as tf.Tensor, a as tf.Tensor, b as tf.Tensor, undefined, save as tf.GradSaveFunc),
  );
  return f(args.x, args.loraA, args.loraB) as tf.Tensor2D;
}
