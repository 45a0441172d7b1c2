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

/** Options of {@link LoraMatMulPrimitives.matMulPair}. */
export interface MatMulPairOptions {
  /** Use qᵀ instead of q. */
  transposeQ: boolean;
  /** Use q2ᵀ instead of q2. */
  transposeQ2: boolean;
  /** Factor of the second product. */
  scale2: number;
}

/** The products a backend supplies to {@link customGradLoraMatMul} (its own kernels or ops). */
export interface LoraMatMulPrimitives {
  /** a·b [m, n], with a and/or b transposed. */
  matMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D;
  /** `p·q + scale2·(p2·q2) + bias` in one pass where the backend can (q, q2 optionally transposed). */
  matMulPair(
    p: tf.Tensor2D,
    q: tf.Tensor2D,
    p2: tf.Tensor2D,
    q2: tf.Tensor2D,
    options: MatMulPairOptions,
    bias?: tf.Tensor1D,
  ): tf.Tensor2D;
}

/**
 * A fused LoRA matmul `y = x·W + bias + s·(x·A)·B` with its gradient written once (`tf.customGrad`), for
 * backends that supply the products ({@link LoraMatMulPrimitives}): the forward computes x·A once ([n, r])
 * and `matMulPair(x, W, x·A, B, scale2 = s)`; the gradient gives dx = `matMulPair(dy, Wᵀ, s·dy·Bᵀ, Aᵀ)`,
 * dA = xᵀ·(s·dy·Bᵀ), dB = (s·x·A)ᵀ·dy, dbias = Σ dy, and never dW (the frozen kernel is not an input of
 * the gradient). Checks the arguments first ({@link checkLoraMatMulArgs}, naming `kernelName`).
 */
export function customGradLoraMatMul(args: LoraMatMulArgs, ops: LoraMatMulPrimitives, kernelName: string): tf.Tensor2D {
  checkLoraMatMulArgs(args, kernelName);
  const { kernel, scaling } = args;
  const scaled = (t: tf.Tensor2D): tf.Tensor2D => (scaling === 1 ? t : tf.mul(t, scaling));
  const forward = (
    x: tf.Tensor2D,
    a: tf.Tensor2D,
    b: tf.Tensor2D,
    bias: tf.Tensor1D | undefined,
    save: tf.GradSaveFunc,
  ) => {
    const xa = ops.matMul(x, a, false, false);
    const opts = { transposeQ: false, transposeQ2: false, scale2: scaling };
    const value = ops.matMulPair(x, kernel, xa, b, opts, bias);
    save([x, a, b, xa, kernel]); // kernel too: a caller's temporary W must outlive the forward scope
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [xs, as, bs, xas, w] = saved as tf.Tensor2D[];
      const dy2 = dy as tf.Tensor2D;
      const g = scaled(ops.matMul(dy2, bs!, false, true)); // s·dy·Bᵀ [n, r]
      const dx = ops.matMulPair(dy2, w!, g, as!, { transposeQ: true, transposeQ2: true, scale2: 1 });
      const dA = ops.matMul(xs!, g, true, false);
      const dB = ops.matMul(scaled(xas!), dy2, true, false);
      return bias ? [dx, dA, dB, tf.sum(dy2, 0)] : [dx, dA, dB];
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
