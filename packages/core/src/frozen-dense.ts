// tfjs-layers' Dense trains through tfjs-core's fused matMul, whose custom gradient computes the gradient of
// every input: a frozen Dense layer computes its kernel's gradient in every backward pass and throws it away
// (GPT-2's lm_head: a [768, 50257] product per step). PyTorch skips it. While gradients are recorded, a Dense
// layer whose kernel does not train runs through core's frozenMatMul instead (dx = dy·Wᵀ only); the forward
// values are the same products. Trainable kernels, and calls outside a gradient (predict), keep tfjs's path.
import * as tf from '@tensorflow/tfjs-core';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import { layerClassPrototype } from './layers-config-fixes.js';
import { frozenMatMul } from './lora-linear.js';

interface DenseLike {
  kernel?: LayerVariable;
  bias?: LayerVariable | null;
  activation?: { apply(x: tf.Tensor): tf.Tensor };
  invokeCallHook(inputs: tf.Tensor | tf.Tensor[], kwargs: unknown): void;
}
type Call = (this: DenseLike, inputs: tf.Tensor | tf.Tensor[], kwargs: unknown) => tf.Tensor | tf.Tensor[];

let installed = false;

/** Whether tfjs is recording operations for a gradient (inside `tf.grads`, `variableGrads`, `minimize`). */
function recordingGradients(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}

/**
 * Makes frozen tfjs-layers Dense layers skip their kernel's gradient while training (see the module comment).
 * Idempotent; applyLora's rebuild installs it, so every LoRA model gets it.
 */
export function ensureFrozenDenseGradients(): void {
  if (installed) return;
  installed = true;
  const proto = layerClassPrototype<{ call: Call }>('Dense');
  if (proto === undefined) return;
  const original = proto.call;
  const call: Call & { tfjsCall?: Call } = function (this: DenseLike, inputs, kwargs) {
    const kernel = this.kernel;
    if (kernel === undefined || kernel.trainable || !recordingGradients()) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const w = kernel.read() as tf.Tensor2D;
      const flat = (x.rank === 2 ? x : tf.reshape(x, [-1, x.shape[x.rank - 1]!])) as tf.Tensor2D;
      let y: tf.Tensor = frozenMatMul(flat, w);
      if (x.rank !== 2) y = tf.reshape(y, [...x.shape.slice(0, -1), w.shape[1]]);
      if (this.bias) y = tf.add(y, this.bias.read());
      return this.activation ? this.activation.apply(y) : y;
    });
  };
  call.tfjsCall = original; // tfjs's own call, for benchmarks that compare the two paths
  proto.call = call;
}
