// The low-rank update of each kind of graph weight, in tfjs layouts, and the PyTorch layouts PEFT files use.
//   matmul    W [in, out] (or [out, in] with transpose_b): A [in, r], B [r, out]; PEFT Linear: Aᵀ [r, in], Bᵀ [out, r].
//   conv2d    W [kh, kw, in, out]: A [kh, kw, in, r], B [r, out]: ΔW = A·B over the last axis of A, PEFT's
//             Conv2d LoRA (A a kh×kw convolution to r channels, B a 1×1 one): A [r, in, kh, kw], B [out, r, 1, 1].
//   depthwise W [kh, kw, C, M]: A [kh, kw, r], B [r, C, M], ΔW = A·B on the matricised kernel [kh·kw, C·M]
//             (the layout of @tfjs-lora/vision's DepthwiseConv2D LoRA); PyTorch layout A [r, kh, kw], B [C·M, r].
import * as tf from '@tensorflow/tfjs-core';
import type { InitLoraWeights } from '@tfjs-lora/core';
import { initDenseLora } from '@tfjs-lora/core/math';
import type { GraphTarget, WeightKind } from './targets.js';

type Geometry = Pick<GraphTarget, 'kind' | 'shape' | 'transposed'>;

/** The weight read as a matrix [rows, cols] that A [rows, r]·B [r, cols] updates (fan-in, outputs). */
export function matrixDims(t: Geometry): [number, number] {
  const s = t.shape;
  if (t.kind === 'matmul') return t.transposed ? [s[1]!, s[0]!] : [s[0]!, s[1]!];
  if (t.kind === 'conv2d') return [s[0]! * s[1]! * s[2]!, s[3]!];
  return [s[0]! * s[1]!, s[2]! * s[3]!];
}

/** Factor shapes in tfjs layout for a target of rank `r`. */
export function factorShapes(t: Geometry, r: number): { loraA: number[]; loraB: number[] } {
  const s = t.shape;
  const [rows, cols] = matrixDims(t);
  if (t.kind === 'matmul') return { loraA: [rows, r], loraB: [r, cols] };
  if (t.kind === 'conv2d') return { loraA: [s[0]!, s[1]!, s[2]!, r], loraB: [r, cols] };
  return { loraA: [s[0]!, s[1]!, r], loraB: [r, s[2]!, s[3]!] };
}

/** ΔW = A·B in the weight's own shape and layout (unscaled). */
export function deltaWeight(t: Geometry, loraA: tf.Tensor, loraB: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [rows, cols] = matrixDims(t);
    const r = loraB.shape[0]!;
    const d = tf.matMul(tf.reshape(loraA, [rows, r]) as tf.Tensor2D, tf.reshape(loraB, [r, cols]) as tf.Tensor2D);
    if (t.kind === 'matmul') return t.transposed ? tf.transpose(d) : d;
    return tf.reshape(d, [...t.shape]);
  });
}

/** The frozen weight as the [rows, cols] matrix the factors update. */
function asMatrix(t: Geometry, weight: tf.Tensor): tf.Tensor2D {
  if (t.kind === 'matmul') return (t.transposed ? tf.transpose(weight) : weight) as tf.Tensor2D;
  return tf.reshape(weight, matrixDims(t));
}

/**
 * Initial factors, as PEFT initialises a Linear on the matricised weight (fan-in = rows: in, kh·kw·in for
 * Conv2D, kh·kw for depthwise): `true` draws A with kaiming-uniform and zeros B, 'gaussian' draws A
 * normal(0, 1/r), `false` draws both (a non-identity start).
 */
export function initFactors(
  t: Geometry,
  weight: tf.Tensor,
  r: number,
  scaling: number,
  mode: InitLoraWeights,
  seed?: number,
): { loraA: tf.Tensor; loraB: tf.Tensor } {
  return tf.tidy(() => {
    const init = initDenseLora(asMatrix(t, weight), r, scaling, mode, { seed });
    const shapes = factorShapes(t, r);
    init.residualKernel?.dispose();
    return { loraA: tf.reshape(init.loraA, shapes.loraA), loraB: tf.reshape(init.loraB, shapes.loraB) };
  });
}

/** A factor in PyTorch layout (what PEFT saves). */
export function toTorch(kind: WeightKind, factor: 'loraA' | 'loraB', x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (kind === 'matmul') return tf.transpose(x);
    if (kind === 'conv2d') {
      if (factor === 'loraA') return tf.transpose(x, [3, 2, 0, 1]);
      return tf.reshape(tf.transpose(x), [x.shape[1]!, x.shape[0]!, 1, 1]);
    }
    if (factor === 'loraA') return tf.transpose(x, [2, 0, 1]);
    const [r, c, m] = x.shape;
    return tf.transpose(tf.reshape(x, [r!, c! * m!]));
  });
}

/** Inverse of {@link toTorch}: a PyTorch-layout factor in the tfjs layout of target `t` (rank r). */
export function fromTorch(t: Geometry, factor: 'loraA' | 'loraB', x: tf.Tensor, r: number): tf.Tensor {
  return tf.tidy(() => {
    const shapes = factorShapes(t, r);
    if (t.kind === 'matmul') return tf.transpose(x);
    if (t.kind === 'conv2d') {
      if (factor === 'loraA') return tf.transpose(x, [2, 3, 1, 0]);
      return tf.transpose(tf.reshape(x, [x.shape[0]!, r]));
    }
    if (factor === 'loraA') return tf.transpose(x, [1, 2, 0]);
    return tf.reshape(tf.transpose(x), shapes.loraB);
  });
}

/** The PyTorch-layout shapes of the factors (what a PEFT file must hold for this target). */
export function torchShapes(t: Geometry, r: number): { loraA: number[]; loraB: number[] } {
  const s = t.shape;
  const [rows, cols] = matrixDims(t);
  if (t.kind === 'matmul') return { loraA: [r, rows], loraB: [cols, r] };
  if (t.kind === 'conv2d') return { loraA: [r, s[2]!, s[0]!, s[1]!], loraB: [cols, r, 1, 1] };
  return { loraA: [r, s[0]!, s[1]!], loraB: [cols, r] };
}
