// A LoRA linear layer whose backward pass is written by hand (tf.customGrad): dx, dA, dB and never the
// gradient of the frozen kernel. Against autodiff of the composed form it shares dy·Bᵀ between dx and
// dA, records 2 custom operations instead of 4 matmul/mul nodes, and saves no copy of the frozen W.
import * as tf from '@tensorflow/tfjs-core';

/** Arguments of {@link loraLinear}: `y = x·W (+ bias) + scaling·(xLora·A)·B` over the last axis of x. */
export interface LoraLinearArgs {
  /** Input [..., in] (any rank ≥ 2; the product is over the last axis, as tfjs `Dense`). */
  x: tf.Tensor;
  /** Frozen base kernel [in, out]; it gets no gradient. */
  kernel: tf.Tensor2D;
  /** LoRA down-projection [in, r]. */
  loraA: tf.Tensor2D;
  /** LoRA up-projection [r, out]. */
  loraB: tf.Tensor2D;
  /** alpha / r (or alpha / √r with rsLoRA). */
  scaling: number;
  /** Optional bias [out]. */
  bias?: tf.Tensor1D;
  /** Input of the LoRA branch when it differs from x (PEFT's dropout on that branch only); default x. */
  loraInput?: tf.Tensor;
}

/** Whether operations are being recorded for a gradient now (inside `tf.grad`, `minimize`, ...). */
export function recordingGradients(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

const flat = (t: tf.Tensor, inF: number): tf.Tensor2D => (t.rank === 2 ? (t as tf.Tensor2D) : tf.reshape(t, [-1, inF]));

/** Tensors a customGrad forward must save (a variable outlives the step; anything else may not). */
function keepFor(save: tf.GradSaveFunc, ts: tf.Tensor[]): void {
  save(ts.filter((t) => !(t instanceof tf.Variable)));
}

/**
 * The frozen base product x·W with a hand-written gradient: dx = dy·Wᵀ, never dW. Its own operation,
 * because tfjs computes all of a custom gradient's outputs eagerly, but only for operations that lie on
 * a path to the variables being differentiated: for a network's first layer (x is an input) this
 * operation is skipped in the backward pass, as autodiff would skip it. W is not saved (no copy).
 */
export function frozenMatMul(x: tf.Tensor2D, kernel: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[1] as tf.GradSaveFunc;
    keepFor(save, [kernel]);
    return {
      value: tf.matMul(args[0] as tf.Tensor2D, kernel),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [w] = restore(saved, [kernel]);
        return [tf.matMul(dy as tf.Tensor2D, w as tf.Tensor2D, false, true)];
      },
    };
  });
  return op(x) as tf.Tensor2D;
}

/**
 * The LoRA branch `scaling·(x·A)·B` with a hand-written gradient: with g = s·dy·Bᵀ (computed once),
 * dx = g·Aᵀ, dA = xᵀ·g, dB = s·(x·A)ᵀ·dy. Saves x and the small s·(x·A) [n, r].
 */
export function loraBranch(x: tf.Tensor2D, loraA: tf.Tensor2D, loraB: tf.Tensor2D, scaling: number): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, a, b] = args as tf.Tensor2D[];
    const save = args[3] as tf.GradSaveFunc;
    const down = tf.mul(tf.matMul(xi, a), scaling); // s·(x·A) [n, r]
    keepFor(save, [xi, down, a, b]);
    return {
      value: tf.matMul(down, b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sdown, sa, sb] = restore(saved, [xi, down, a, b]) as tf.Tensor2D[];
        const d = dy as tf.Tensor2D;
        const g = tf.mul(tf.matMul(d, sb, false, true), scaling); // s·dy·Bᵀ [n, r]
        return [tf.matMul(g, sa, false, true), tf.matMul(sx, g, true, false), tf.matMul(sdown, d, true, false)];
      },
    };
  });
  return op(x, loraA, loraB) as tf.Tensor2D;
}

/**
 * `x·W + bias + scaling·(xLora·A)·B` over the last axis of x, with hand-written gradients: dx = dy·Wᵀ +
 * s·(dy·Bᵀ)·Aᵀ, dA = s·xLoraᵀ·(dy·Bᵀ), dB = s·(xLora·A)ᵀ·dy, and never dW, so W must be frozen (the
 * Dense adapter falls back to autodiff when it trains). A, B and x are explicit inputs of the custom
 * gradients (variables read inside a `tf.customGrad` get no gradient); the bias is added outside them,
 * so it gets a gradient exactly when it trains. Outside a gradient computation it is the plain product.
 * Works on every backend (tfjs-core ops only); where a backend registers a fused `loraMatMul`, the Dense
 * adapter prefers that instead.
 */
export function loraLinear(args: LoraLinearArgs): tf.Tensor {
  return tf.tidy(() => {
    const { x, kernel, loraA, loraB, scaling, bias } = args;
    const xl = args.loraInput ?? x;
    const inF = x.shape[x.rank - 1];
    const x2 = flat(x, inF);
    const xl2 = xl === x ? x2 : flat(xl, inF);
    let y: tf.Tensor2D;
    if (recordingGradients()) {
      y = tf.add(frozenMatMul(x2, kernel), loraBranch(xl2, loraA, loraB, scaling));
    } else {
      y = tf.add(tf.matMul(x2, kernel), tf.matMul(tf.mul(tf.matMul(xl2, loraA), scaling), loraB));
    }
    if (bias) y = tf.add(y, bias);
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), kernel.shape[1]]);
  });
}

/** The saved copies in the order given, with variables (not saved) taken as they are. */
function restore(saved: tf.Tensor[], wanted: tf.Tensor[]): tf.Tensor[] {
  let k = 0;
  return wanted.map((t) => (t instanceof tf.Variable ? t : saved[k++]));
}
