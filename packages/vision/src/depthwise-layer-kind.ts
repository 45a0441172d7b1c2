import * as tf from '@tensorflow/tfjs-core';
import { type Layer, type LayerKind } from '@tfjs-lora/core';
import { applyConfiguredActivation, requireWeight, weightByName } from '@tfjs-lora/core/math';
import { addBias, convGeometry, type ConvGeometry } from './conv-geometry.js';
import {
  depthwiseDelta,
  depthwiseFactorShapes,
  depthwiseFromTorch,
  depthwiseToTorch,
  initDepthwiseFactors,
} from './depthwise-lora.js';
import { warnIfNotLowRank } from './param-budget.js';

/** A channels-last depthwise convolution with the layer's geometry. */
export function depthwise(x: tf.Tensor, kernel: tf.Tensor, g: ConvGeometry): tf.Tensor {
  return tf.depthwiseConv2d(
    x as tf.Tensor4D,
    kernel as tf.Tensor4D,
    g.strides as [number, number],
    g.padding,
    'NHWC',
    g.dilationRate as [number, number],
  );
}

const kernelOf = (layer: Layer) => requireWeight(layer, 'depthwise_kernel');

/**
 * The geometry the layer actually runs with: tfjs-layers 4.22's `DepthwiseConv2D.call` passes no
 * dilation to the op, so a configured `dilationRate` is ignored. The LoRA layer reproduces the layer as
 * it runs (so disabled adapters and merged models give the original outputs).
 */
function geometryOf(layer: Layer): ConvGeometry {
  return { ...convGeometry(layer, 2), dilationRate: [1, 1] };
}

/**
 * The factor shapes (with the low-rank warning) and initialisation of a LoRA on a depthwise kernel found
 * by `kernel`: shared by DepthwiseConv2D and SeparableConv2D's depthwise part.
 */
export function depthwiseFactorHooks(kernel: LayerKind['kernel']): Pick<LayerKind, 'factorShapes' | 'initFactors'> {
  return {
    factorShapes(layer, r) {
      const shape = kernel(layer).shape as number[];
      const [kh, kw, c, m] = shape;
      warnIfNotLowRank(layer, r, r * (kh * kw + c * m), kh * kw * c * m, 'depthwise kernel');
      return depthwiseFactorShapes(shape, r);
    },
    initFactors: (layer, r, scaling, mode, seed) => initDepthwiseFactors(kernel(layer).read(), r, scaling, mode, seed),
  };
}

/**
 * LoRA for tfjs `DepthwiseConv2D` with an exactly mergeable low-rank update (see
 * {@link depthwiseDelta}): PEFT cannot merge grouped convolutions; here ΔD has the depthwise kernel's
 * own shape. The forward pass with one live adapter is a single depthwise convolution with
 * `D + scaling·ΔD`, which equals base + LoRA exactly and is cheaper than two. No DoRA.
 */
export const depthwiseConv2dLayerKind: LayerKind = {
  name: 'depthwise-conv2d',
  layerClasses: ['DepthwiseConv2D'],
  isLinear: false,
  peftNames: { loraA: 'lora_A', loraB: 'lora_B' },
  inputDropout: true,
  check: (layer) => void geometryOf(layer),
  kernel: kernelOf,
  bias: (layer) => weightByName(layer, 'bias'),
  ...depthwiseFactorHooks(kernelOf),
  baseForward(layer, x) {
    return addBias(depthwise(x, kernelOf(layer).read(), geometryOf(layer)), weightByName(layer, 'bias')?.read());
  },
  loraForward: (layer, x, loraA, loraB) => depthwise(x, depthwiseDelta(loraA, loraB), geometryOf(layer)),
  fusedForward(layer, { x, loraInput, loraA, loraB, scaling }) {
    if (loraInput) return null; // LoRA dropout: composed
    const combined = tf.add(kernelOf(layer).read(), tf.mul(depthwiseDelta(loraA, loraB), scaling));
    return addBias(depthwise(x, combined, geometryOf(layer)), weightByName(layer, 'bias')?.read());
  },
  deltaWeight: (_layer, loraA, loraB) => depthwiseDelta(loraA, loraB),
  activate: applyConfiguredActivation,
  toPeft: (_layer, factor, t) => depthwiseToTorch(factor, t),
  fromPeft: (layer, factor, t) => depthwiseFromTorch(factor, t, kernelOf(layer).shape as number[]),
};
