import * as tf from '@tensorflow/tfjs-core';
import { type FactorInit, type InitLoraWeights, type Layer, type LayerKind } from '@tfjs-lora/core';
import {
  applyConfiguredActivation,
  doraVariant,
  dotLast,
  initDenseLora,
  requireWeight,
  weightByName,
} from '@tfjs-lora/core/math';
import { convGeometry, convolve, type ConvGeometry } from './conv-geometry.js';
import { loraConv, loraConvSupports } from './conv-lora-grad.js';
import { warnIfNotLowRank } from './param-budget.js';

/** [...kernelSize, in, out] of a convolution kernel. */
function kernelDims(layer: Layer): { spatial: number[]; inC: number; outC: number } {
  const shape = requireWeight(layer, 'kernel').shape as number[];
  return { spatial: shape.slice(0, -2), inC: shape[shape.length - 2], outC: shape[shape.length - 1] };
}

/** A conv factor or kernel in PyTorch's layout [out, in, ...k] from tfjs's [...k, in, out]. */
export function convToTorch(t: tf.Tensor): tf.Tensor {
  const n = t.rank;
  return tf.transpose(t, [n - 1, n - 2, ...Array.from({ length: n - 2 }, (_, i) => i)]);
}

/** Inverse of {@link convToTorch}: PyTorch [out, in, ...k] to tfjs [...k, in, out]. */
export function convFromTorch(t: tf.Tensor): tf.Tensor {
  const n = t.rank;
  return tf.transpose(t, [...Array.from({ length: n - 2 }, (_, i) => i + 2), 1, 0]);
}

/** ΔW [...k, in, out] = reshape(A [...k, in, r], [k·in, r]) · reshape(B [...1, r, out], [r, out]). */
export function convDelta(loraA: tf.Tensor, loraB: tf.Tensor): tf.Tensor {
  const [r, outC] = loraB.shape.slice(-2);
  const a = tf.reshape(loraA, [-1, r]) as tf.Tensor2D;
  return tf.reshape(tf.matMul(a, tf.reshape(loraB, [r, outC]) as tf.Tensor2D), [...loraA.shape.slice(0, -1), outC]);
}

/**
 * Initial conv factors for a kernel [...k, in, out]: conv LoRA is Dense LoRA on the kernel reshaped to
 * [k·in, out], so the fan-in of A (k·in, as PyTorch's conv init) and of B (r), PiSSA's and OLoRA's
 * decompositions all carry over; the factors are reshaped back to A [...k, in, r], B [...1, r, out].
 */
export function initConvFactors(
  kernel: tf.Tensor,
  r: number,
  scaling: number,
  mode: InitLoraWeights,
  seed?: number,
): FactorInit {
  const spatial = kernel.shape.slice(0, -2);
  const [inC, outC] = kernel.shape.slice(-2);
  const [loraA, loraB, residualKernel] = tf.tidy(() => {
    const init = initDenseLora(tf.reshape(kernel, [-1, outC]) as tf.Tensor2D, r, scaling, mode, { seed });
    const a = tf.reshape(init.loraA, [...spatial, inC, r]);
    const b = tf.reshape(init.loraB, [...spatial.map(() => 1), r, outC]);
    return init.residualKernel ? [a, b, tf.reshape(init.residualKernel, kernel.shape)] : [a, b];
  });
  return residualKernel ? { loraA, loraB, residualKernel } : { loraA, loraB };
}

/**
 * Whether one convolution with W + s·ΔW costs less than the base convolution plus the LoRA branch, per
 * output position of a training step (forward, input gradient, weight gradients), for a kernel with
 * fan-in K = k·in, `out` outputs and rank r: merged 3·K·out against 2·K·out + 3·r·(K + out). True for
 * small kernels (a first layer with one input channel, a 10-way head), false for wide ones. Both forms
 * give the same outputs and gradients (up to rounding).
 */
export function mergedIsCheaper(fanIn: number, out: number, r: number): boolean {
  return fanIn * out < 3 * r * (fanIn + out);
}

/** {@link loraConv} on a convolution layer's weights; null when its kernel trains or the geometry is unsupported. */
function customGradConv(
  layer: Layer,
  g: ConvGeometry,
  x: tf.Tensor,
  loraInput: tf.Tensor,
  loraA: tf.Tensor,
  loraB: tf.Tensor,
  scaling: number,
): tf.Tensor | null {
  const kernel = requireWeight(layer, 'kernel');
  if (kernel.trainable || !loraConvSupports(g)) return null;
  const bias = weightByName(layer, 'bias')?.read();
  return loraConv({
    x,
    kernel: kernel.read(),
    loraA,
    loraB,
    scaling,
    geometry: g,
    ...(bias ? { bias } : {}),
    ...(loraInput !== x ? { loraInput } : {}),
  });
}

/**
 * The LoRA layer kind for an N-d convolution with PEFT's semantics (`_ConvNd` in peft/tuners/lora/layer.py).
 * A is a convolution from `in` to `r` channels with the base's kernel size, strides, padding and
 * dilation, tfjs layout [...k, in, r]; B a 1×1 convolution from `r` to `out` channels, [...1, r, out].
 * ΔW = reshape(A, [k·in, r]) · reshape(B, [r, out]) reshaped to [...k, in, out], so merging is exact.
 * (PEFT builds lora_A without the base's dilation; here it has it, so that merged equals unmerged.)
 * With one live adapter the forward pass takes the cheaper exact form ({@link mergedIsCheaper}): one
 * convolution with W + s·ΔW, or the base convolution plus (A(x))·(s·B) with hand-written gradients
 * ({@link loraConv}: no filter gradient of the frozen kernel), also with LoRA dropout; autodiff of the
 * composed form when the kernel trains or the layer is a dilated or non-pointwise Conv1D.
 */
function convLayerKind(className: 'Conv1D' | 'Conv2D', spatialRank: number): LayerKind {
  const rank = spatialRank + 2;
  return {
    name: className.toLowerCase(),
    layerClasses: [className],
    isLinear: false,
    peftNames: { loraA: 'lora_A', loraB: 'lora_B' },
    inputDropout: true,
    check: (layer) => void convGeometry(layer, spatialRank),
    kernel: (layer) => requireWeight(layer, 'kernel'),
    bias: (layer) => weightByName(layer, 'bias'),
    factorShapes(layer, r) {
      const { spatial, inC, outC } = kernelDims(layer);
      const k = spatial.reduce((a, b) => a * b, 1);
      warnIfNotLowRank(layer, r, r * (k * inC + outC), k * inC * outC);
      return { loraA: [...spatial, inC, r], loraB: [...spatial.map(() => 1), r, outC] };
    },
    initFactors: (layer, r, scaling, mode, seed) =>
      initConvFactors(requireWeight(layer, 'kernel').read(), r, scaling, mode, seed),
    baseForward(layer, x) {
      return convolve(
        x,
        requireWeight(layer, 'kernel').read(),
        convGeometry(layer, spatialRank),
        weightByName(layer, 'bias')?.read(),
      );
    },
    loraForward(layer, x, loraA, loraB) {
      const down = convolve(x, loraA, convGeometry(layer, spatialRank));
      const [r, outC] = loraB.shape.slice(-2);
      return dotLast(down, tf.reshape(loraB, [r, outC]) as tf.Tensor2D);
    },
    fusedForward(layer, { x, loraInput, loraA, loraB, scaling }) {
      const g = convGeometry(layer, spatialRank);
      if (loraInput) return customGradConv(layer, g, x, loraInput, loraA, loraB, scaling);
      const kernel = requireWeight(layer, 'kernel').read();
      const bias = weightByName(layer, 'bias')?.read();
      const [r, outC] = loraB.shape.slice(-2);
      if (
        mergedIsCheaper(
          loraA.shape.slice(0, -1).reduce((p, q) => p * q, 1),
          outC,
          r,
        )
      ) {
        return convolve(x, tf.add(kernel, tf.mul(convDelta(loraA, loraB), scaling)), g, bias);
      }
      const custom = customGradConv(layer, g, x, x, loraA, loraB, scaling);
      if (custom) return custom;
      const scaledB = tf.mul(tf.reshape(loraB, [r, outC]), scaling) as tf.Tensor2D; // scale the small factor, not the output
      return tf.add(convolve(x, kernel, g, bias), dotLast(convolve(x, loraA, g), scaledB));
    },
    deltaWeight: (_layer, loraA, loraB) => convDelta(loraA, loraB),
    activate: applyConfiguredActivation,
    // DoRA (PEFT): the norm per output channel over (in, ...k), i.e. every axis but the last in tfjs; PEFT
    // keeps the magnitude as [1, out, 1, 1] (Conv2d) or [1, out, 1] (Conv1d).
    dora: doraVariant({
      weightNorm: (_layer, weight) =>
        tf.sqrt(
          tf.sum(
            tf.square(weight),
            Array.from({ length: rank - 1 }, (_, i) => i),
          ),
        ) as tf.Tensor1D,
      peftMagnitudeShape: (_layer, out) => [1, out, ...new Array<number>(spatialRank).fill(1)],
    }),
    toPeft: (_layer, _factor, t) => convToTorch(t),
    fromPeft: (_layer, _factor, t) => convFromTorch(t),
  };
}

/** LoRA for tfjs `Conv2D` (PyTorch `nn.Conv2d` in PEFT): A [kh, kw, in, r], B [1, 1, r, out]. */
export const conv2dLayerKind: LayerKind = convLayerKind('Conv2D', 2);

/** LoRA for tfjs `Conv1D` (PyTorch `nn.Conv1d` in PEFT): A [k, in, r], B [1, r, out]. */
export const conv1dLayerKind: LayerKind = convLayerKind('Conv1D', 1);
