// The fused LoRA matmul for the native TensorFlow backends ('native', 'cuda').
import * as tf from '@tensorflow/tfjs-core';
import { type LoraMatMulArgs } from '@tfjs-lora/core';
import { checkLoraMatMulArgs, loraLinear } from '@tfjs-lora/core/math';
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

/**
 * `y = x·W + bias + s·(x·A)·B` on TensorFlow, each product one `MatMul` op executed on the binding
 * directly (transposes as op attributes, never materialised), the bias one `BiasAdd`. Its gradient
 * (`tf.customGrad`) is written by hand: dx = dy·Wᵀ + (s·dy·Bᵀ)·Aᵀ, dA = xᵀ·(s·dy·Bᵀ), dB = (s·x·A)ᵀ·dy,
 * dbias = Σ dy, and no dW for the frozen kernel. On another tfjs backend it is core's `loraLinear`. Equal to
 * core's `composedLoraMatMul` within float32 rounding.
 */
export function nativeLoraMatMul(args: LoraMatMulArgs): tf.Tensor2D {
  checkLoraMatMulArgs(args, 'loraMatMul (native)');
  const { kernel, scaling } = args;
  const backend = tf.backend() as NodeKernelBackend;
  // Elsewhere (a caller on another tfjs backend): core's LoRA linear, whose gradient is written the same way.
  if (typeof backend.executeSingleOutput !== 'function' || backend.binding === undefined)
    return loraLinear(args) as tf.Tensor2D;
  const ops = tfOps(backend);
  const forward = (
    x: tf.Tensor2D,
    a: tf.Tensor2D,
    b: tf.Tensor2D,
    bias: tf.Tensor1D | undefined,
    save: tf.GradSaveFunc,
  ) => {
    const down = ops.matMul(x, a);
    const scaled = scaling === 1 ? down : tf.mul(down, scaling); // s·x·A [n, r]
    const y = ops.add(ops.matMul(x, kernel), ops.matMul(scaled, b));
    const value = bias ? ops.biasAdd(y, bias) : y;
    save([x, a, b, scaled, kernel]); // kernel too: a caller's temporary W must outlive the forward scope
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [xs, as, bs, ss, w] = saved as tf.Tensor2D[];
      const dyBt = ops.matMul(dy, bs, false, true);
      const g = scaling === 1 ? dyBt : tf.mul(dyBt, scaling); // s·dy·Bᵀ [n, r]
      const dx = ops.add(ops.matMul(dy, w, false, true), ops.matMul(g, as, false, true));
      const dA = ops.matMul(xs, g, true, false);
      const dB = ops.matMul(ss, dy, true, false);
      return bias ? [dx, dA, dB, tf.sum(dy, 0)] : [dx, dA, dB];
    };
    return { value, gradFunc };
  };
  if (args.bias) {
    const f = tf.customGrad((x, a, b, bias, save) =>
      forward(x as tf.Tensor2D, a as tf.Tensor2D, b as tf.Tensor2D, bias as tf.Tensor1D, save as tf.GradSaveFunc),
    );
    return f(args.x, args.loraA, args.loraB, args.bias) as tf.Tensor2D;
  }
  const f = tf.customGrad((x, a, b, save) =>
    forward(x as tf.Tensor2D, a as tf.Tensor2D, b as tf.Tensor2D, undefined, save as tf.GradSaveFunc),
  );
  return f(args.x, args.loraA, args.loraB) as tf.Tensor2D;
}
