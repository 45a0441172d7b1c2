import * as tf from '@tensorflow/tfjs-core';
import { composedWasmKernel, type Info, type KernelParams } from './kernel-scope.js';
import { originalKernel } from './originals.js';
import { cachedTransposeLast2 } from './transpose-cache.js';

/**
 * A faster `BatchMatMul` for wasm: tfjs-backend-wasm sends a product with a transposed operand (every
 * matMul of a backward pass) to a scalar loop (~2.6 GFLOP/s against ~29 through XNNPACK untransposed,
 * see PERF-NOTES). The transposed operand is transposed first (tiled copy in JavaScript) and the
 * original kernel runs untransposed; untransposed products go straight to it. The transpose of an
 * operand that comes back unchanged (a frozen weight's Wᵀ in dx = dy·Wᵀ) is cached, keyed by its buffer
 * (see {@link cachedTransposeLast2}), which also lets XNNPACK reuse its packed weights.
 */
export function batchMatMul(params: KernelParams): Info {
  const original = originalKernel(tf.BatchMatMul);
  const flags = (params.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  if (!flags.transposeA && !flags.transposeB) return original(params) as Info;
  return composedWasmKernel<tf.BatchMatMulAttrs>(params, ({ a, b }, attrs, s) => {
    const a2 = attrs.transposeA ? cachedTransposeLast2(s, a) : a;
    const b2 = attrs.transposeB ? cachedTransposeLast2(s, b) : b;
    return s.runFunc(original, { a: a2, b: b2 }, { transposeA: false, transposeB: false });
  });
}

/** Registration of {@link batchMatMul} for 'wasm' (replaces tfjs-backend-wasm's). */
export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMul,
};
