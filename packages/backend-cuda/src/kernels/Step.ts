// A faster `Step` for tfjs's 'tensorflow' backend: ReLU's gradient calls Step(x, alpha=0) every step,
// and tfjs-node 4.22 builds it from `ones(x.shape)` and `fill(x.shape, alpha)` made in JavaScript and
// uploaded (~0.5 ms each at 64x512). Here it is four TensorFlow ops and no upload:
// Select(IsNan(x), x, Sign(Relu(x))), equal to tfjs's definition (1 where x > 0, 0 elsewhere, NaN kept).
import * as tf from '@tensorflow/tfjs-core';
import { LoraError } from '@tfjs-lora/core';
import type { NodeKernelBackend } from '../native-binding.js';

let original: tf.KernelConfig | undefined;

function step(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs['x'] as tf.TensorInfo;
  const alpha = (args.attrs?.['alpha'] as number | undefined) ?? 0;
  if (x.dtype !== 'float32' || alpha !== 0 || !original) {
    if (!original)
      throw new LoraError(
        "Step (tensorflow): expected tfjs-node's own Step kernel to delegate to; found none. Load the binding before registerFasterStep().",
      );
    return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  }
  const backend = args.backend as NodeKernelBackend;
  const t = [{ name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT }];
  return tf.tidy(() => {
    const sign = backend.executeSingleOutput('Sign', t, [backend.executeSingleOutput('Relu', t, [x])]);
    const nan = backend.executeSingleOutput('IsNan', t, [x]);
    return backend.executeSingleOutput('Select', t, [nan, x, sign]);
  });
}

/** The faster `Step` kernel for 'tensorflow' (other dtypes and alpha ≠ 0 go to tfjs-node's own). */
export const stepConfig: tf.KernelConfig = {
  kernelName: tf.Step,
  backendName: 'tensorflow',
  kernelFunc: step as tf.KernelFunc,
};

/**
 * Replaces tfjs-node's `Step` kernel with {@link stepConfig}, keeping the original for the cases it
 * delegates. Needs tfjs-node loaded (its kernels registered). Idempotent; returns whether it replaced it.
 */
export function registerFasterStep(): boolean {
  const current = tf.getKernel(tf.Step, 'tensorflow');
  if (!current || current.kernelFunc === stepConfig.kernelFunc) return false;
  original = current;
  tf.unregisterKernel(tf.Step, 'tensorflow');
  tf.registerKernel(stepConfig);
  return true;
}
