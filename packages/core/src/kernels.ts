import * as tf from '@tensorflow/tfjs-core';
import { ShapeMismatchError } from './errors/index.js';

/** Arguments of a fused LoRA matmul: `y = x·W + bias + scaling·(x·A)·B` (pre-activation). */
export interface LoraMatMulArgs {
  /** Input [n, in]. */
  x: tf.Tensor2D;
  /** Frozen base kernel [in, out] (tfjs Dense layout). */
  kernel: tf.Tensor2D;
  /** LoRA down-projection [in, r]. */
  loraA: tf.Tensor2D;
  /** LoRA up-projection [r, out]. */
  loraB: tf.Tensor2D;
  /** alpha / r (or alpha / √r with rsLoRA). */
  scaling: number;
  /** Optional bias [out]. */
  bias?: tf.Tensor1D;
}

/** Arguments of a per-row multi-adapter LoRA product (SGMV/BGMV style). */
export interface MultiAdapterMatMulArgs {
  /** Input [n, in]. */
  x: tf.Tensor2D;
  /** Stacked down-projections [k, in, r]. */
  loraA: tf.Tensor3D;
  /** Stacked up-projections [k, r, out]. */
  loraB: tf.Tensor3D;
  /** Scaling per adapter [k]. */
  scalings: tf.Tensor1D;
  /** Adapter index per row [n] (int32); -1 means no adapter for that row. */
  adapterIndex: tf.Tensor1D;
}

/** Optional fused kernels a LoRA backend may provide; core falls back to the composed versions. */
export interface LoraKernels {
  /** Fused `x·W + bias + s·(x·A)·B`, differentiable with respect to x, A, B (and bias). */
  loraMatMul?: (args: LoraMatMulArgs) => tf.Tensor2D;
  /** Per-row adapter delta `s[i]·(x[i]·A[i])·B[i]`; rows with index -1 get zeros. */
  multiAdapterMatMul?: (args: MultiAdapterMatMulArgs) => tf.Tensor2D;
}

/**
 * Checks the shapes of a fused LoRA matmul's arguments (x [n, in], kernel [in, out], loraA [in, r],
 * loraB [r, out], bias [out]); throws a ShapeMismatchError naming `kernelName` (e.g. 'loraMatMul (webgpu)')
 * and every shape found. For backends implementing {@link LoraKernels.loraMatMul}.
 */
export function checkLoraMatMulArgs({ x, kernel, loraA, loraB, bias }: LoraMatMulArgs, kernelName: string): void {
  const inF = x.shape[1];
  const out = kernel.shape[1];
  const r = loraA.shape[1];
  const ok =
    x.rank === 2 &&
    kernel.rank === 2 &&
    loraA.rank === 2 &&
    loraB.rank === 2 &&
    kernel.shape[0] === inF &&
    loraA.shape[0] === inF &&
    loraB.shape[0] === r &&
    loraB.shape[1] === out &&
    (!bias || (bias.rank === 1 && bias.shape[0] === out));
  if (!ok) {
    throw new ShapeMismatchError(
      `${kernelName}: expected x [n, in], kernel [in, out], loraA [in, r], loraB [r, out], bias [out]; found ` +
        `x [${x.shape}], kernel [${kernel.shape}], loraA [${loraA.shape}], loraB [${loraB.shape}]${bias ? `, bias [${bias.shape}]` : ''}.`,
    );
  }
}

/** The composed (unfused) LoRA matmul built from tfjs-core ops; works on every backend. */
export function composedLoraMatMul({ x, kernel, loraA, loraB, scaling, bias }: LoraMatMulArgs): tf.Tensor2D {
  return tf.tidy(() => {
    let y = tf.matMul(x, kernel);
    if (bias) y = tf.add(y, bias);
    const low = tf.matMul(tf.matMul(x, loraA), loraB);
    return tf.add(y, scaling === 1 ? low : tf.mul(low, scaling));
  });
}

/**
 * The composed per-row multi-adapter product: gathers each row's A and B and runs one batched matmul
 * (no loop over adapters). Rows whose index is -1 produce zeros.
 */
export function composedMultiAdapterMatMul({
  x,
  loraA,
  loraB,
  scalings,
  adapterIndex,
}: MultiAdapterMatMulArgs): tf.Tensor2D {
  return tf.tidy(() => {
    const valid = tf.greaterEqual(adapterIndex, 0);
    const idx = tf.cast(tf.maximum(adapterIndex, 0), 'int32');
    const a = tf.gather(loraA, idx); // [n, in, r]
    const b = tf.gather(loraB, idx); // [n, r, out]
    const s = tf.mul(tf.gather(scalings, idx), tf.cast(valid, 'float32')); // [n]
    const xa = tf.matMul(tf.expandDims(x, 1), a); // [n, 1, r]
    const out = tf.squeeze(tf.matMul(xa, b), [1]) as tf.Tensor2D; // [n, out]
    return tf.mul(out, tf.expandDims(s, 1));
  });
}
