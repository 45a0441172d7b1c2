// The fused LoRA matmul for the native TensorFlow backends ('native', 'cuda').
import * as tf from '@tensorflow/tfjs-core';
import { type LoraMatMulArgs } from '@tfjs-lora/core';
import { checkLoraMatMulArgs, customGradLoraMatMul, loraLinear, type LoraMatMulPrimitives } from '@tfjs-lora/core/math';
import type { NodeKernelBackend } from './native-binding.js';

/** TensorFlow ops called on the binding directly (float32), skipping tfjs's per-op dispatch. */
function tfOps(backend: NodeKernelBackend) {
  const { binding } = backend;
  const t = { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT };
  const bool = (name: string, value: boolean) => ({ name, type: binding.TF_ATTR_BOOL, value });
  return {
    matMul: (a: tf.TensorInfo, b: tf.TensorInfo, ta = false, tb = false) =>
      backend.executeSingleOutput(
        'MatMul',
        [t, bool('transpose_a', ta), bool('transpose_b', tb)],
        [a, b],
      ) as tf.Tensor2D,
    add: (a: tf.TensorInfo, b: tf.TensorInfo) => backend.executeSingleOutput('AddV2', [t], [a, b]) as tf.Tensor2D,
    biasAdd: (a: tf.TensorInfo, b: tf.TensorInfo) => backend.executeSingleOutput('BiasAdd', [t], [a, b]) as tf.Tensor2D,
  };
}

/** The products on the binding: each matMul one `MatMul` op (transposes as attributes), the pair one `AddV2`. */
function primitives(backend: NodeKernelBackend): LoraMatMulPrimitives {
  const ops = tfOps(backend);
  return {
    matMul: (a, b, transposeA, transposeB) => ops.matMul(a, b, transposeA, transposeB),
    matMulPair(p, q, p2, q2, { transposeQ, transposeQ2, scale2 }, bias) {
      const scaled = scale2 === 1 ? p2 : tf.mul(p2, scale2); // scale the [n, r] factor, not the output
      const y = ops.add(ops.matMul(p, q, false, transposeQ), ops.matMul(scaled, q2, false, transposeQ2));
      return bias ? ops.biasAdd(y, bias) : y;
    },
  };
}

/**
 * `y = x·W + bias + s·(x·A)·B` on TensorFlow, each product one `MatMul` op executed on the binding
 * directly (transposes as op attributes, never materialised), the bias one `BiasAdd`. Its gradient is
 * core's {@link customGradLoraMatMul} on these ops: dx = dy·Wᵀ + (s·dy·Bᵀ)·Aᵀ, dA = xᵀ·(s·dy·Bᵀ),
 * dB = (s·x·A)ᵀ·dy, dbias = Σ dy, and no dW for the frozen kernel. On another tfjs backend it is core's
 * `loraLinear`. Equal to core's `composedLoraMatMul` within float32 rounding.
 */
export function nativeLoraMatMul(args: LoraMatMulArgs): tf.Tensor2D {
  const backend = tf.backend() as NodeKernelBackend;
  // Elsewhere (a caller on another tfjs backend): core's LoRA linear, whose gradient is written the same way.
  if (typeof backend.executeSingleOutput !== 'function' || backend.binding === undefined) {
    checkLoraMatMulArgs(args, 'loraMatMul (native)');
    return loraLinear(args) as tf.Tensor2D;
  }
  return customGradLoraMatMul(args, primitives(backend), 'loraMatMul (native)');
}
