import * as tf from '@tensorflow/tfjs-core';
import { registerLayerKind, type Layer, type LayerKind } from '@tfjs-lora/core';
import { applyConfiguredActivation, dotLast, loraLinear, requireWeight, weightByName } from '@tfjs-lora/core/math';
import { addBias, convGeometry } from './conv-geometry.js';
import { depthwise, depthwiseFactorHooks } from './depthwise-layer-kind.js';
import { depthwiseDelta, depthwiseFromTorch, depthwiseToTorch } from './depthwise-lora.js';
import { warnIfNotLowRank } from './param-budget.js';
import { convDelta, convFromTorch, convToTorch, initConvFactors } from './conv-layer-kind.js';

/** Which kernel of a `SeparableConv2D` an adapter updates. */
export type SeparablePart = 'pointwise' | 'depthwise';

const depthwiseKernel = (layer: Layer) => requireWeight(layer, 'depthwise_kernel');
const pointwiseKernel = (layer: Layer) => requireWeight(layer, 'pointwise_kernel');
const bias = (layer: Layer) => weightByName(layer, 'bias')?.read();

/** [CM, O] view of the pointwise kernel [1, 1, CM, O] (or of a factor of that shape). */
const matrix = (t: tf.Tensor): tf.Tensor2D => tf.reshape(t, [t.shape[t.rank - 2], t.shape[t.rank - 1]]);

/**
 * LoRA for tfjs `SeparableConv2D` (a depthwise convolution D [kh, kw, C, M] followed by a pointwise one
 * P [1, 1, C·M, O]). A LoRA layer updates one kernel, so an adapter takes one part:
 *
 * - `'pointwise'` (the default; P holds most parameters): ordinary 1×1-conv LoRA, A [1, 1, C·M, r],
 *   B [1, 1, r, O], ΔP = A·B. The forward pass computes the depthwise output h once and returns
 *   `h·P + scaling·(h·A)·B`.
 * - `'depthwise'`: the low-rank depthwise update of {@link depthwiseDelta} (A [kh, kw, r], B [r, C, M]);
 *   the forward pass is one separable convolution with `D + scaling·ΔD`.
 *
 * Both merge exactly. Choose the part with {@link useSeparableConv2dPart} before applying LoRA and
 * before loading a saved LoRA model (the part is not stored in the model).
 */
export function separableConv2dLayerKind(part: SeparablePart = 'pointwise'): LayerKind {
  const common = {
    layerClasses: ['SeparableConv2D'],
    isLinear: false,
    peftNames: { loraA: 'lora_A', loraB: 'lora_B' },
    inputDropout: true,
    check: (layer: Layer) => void convGeometry(layer, 2),
    bias: (layer: Layer) => weightByName(layer, 'bias'),
    activate: applyConfiguredActivation,
    baseForward(layer: Layer, x: tf.Tensor) {
      const h = depthwise(x, depthwiseKernel(layer).read(), convGeometry(layer, 2));
      return addBias(dotLast(h, matrix(pointwiseKernel(layer).read())), bias(layer));
    },
  };
  if (part === 'pointwise') {
    return {
      ...common,
      name: 'separable-conv2d-pointwise',
      kernel: pointwiseKernel,
      factorShapes(layer, r) {
        const [, , cm, o] = pointwiseKernel(layer).shape as number[];
        warnIfNotLowRank(layer, r, r * (cm + o), cm * o, 'pointwise kernel');
        return { loraA: [1, 1, cm, r], loraB: [1, 1, r, o] };
      },
      // P is a 1×1 Conv2D kernel: the Conv2D layer kind's init, ΔW and layouts apply unchanged.
      initFactors: (layer, r, scaling, mode, seed) =>
        initConvFactors(pointwiseKernel(layer).read(), r, scaling, mode, seed),
      loraForward(layer, x, loraA, loraB) {
        const h = depthwise(x, depthwiseKernel(layer).read(), convGeometry(layer, 2));
        return dotLast(dotLast(h, matrix(loraA)), matrix(loraB));
      },
      fusedForward(layer, { x, loraInput, loraA, loraB, scaling }) {
        if (loraInput) return null; // LoRA dropout: composed
        const h = depthwise(x, depthwiseKernel(layer).read(), convGeometry(layer, 2));
        const pointwise = pointwiseKernel(layer);
        if (!pointwise.trainable) {
          // Hand-written gradient (core's loraLinear): dh, dA, dB, never the frozen pointwise kernel's.
          const b = bias(layer);
          return loraLinear({
            x: h,
            kernel: matrix(pointwise.read()),
            loraA: matrix(loraA),
            loraB: matrix(loraB),
            scaling,
            ...(b ? { bias: b as tf.Tensor1D } : {}),
          });
        }
        const low = tf.mul(dotLast(dotLast(h, matrix(loraA)), matrix(loraB)), scaling);
        return addBias(tf.add(dotLast(h, matrix(pointwiseKernel(layer).read())), low), bias(layer));
      },
      deltaWeight: (_layer, loraA, loraB) => convDelta(loraA, loraB),
      toPeft: (_layer, _factor, t) => convToTorch(t),
      fromPeft: (_layer, _factor, t) => convFromTorch(t),
    };
  }
  return {
    ...common,
    name: 'separable-conv2d-depthwise',
    kernel: depthwiseKernel,
    ...depthwiseFactorHooks(depthwiseKernel),
    loraForward(layer, x, loraA, loraB) {
      const h = depthwise(x, depthwiseDelta(loraA, loraB), convGeometry(layer, 2));
      return dotLast(h, matrix(pointwiseKernel(layer).read()));
    },
    fusedForward(layer, { x, loraInput, loraA, loraB, scaling }) {
      if (loraInput) return null; // LoRA dropout: composed
      const combined = tf.add(depthwiseKernel(layer).read(), tf.mul(depthwiseDelta(loraA, loraB), scaling));
      const h = depthwise(x, combined, convGeometry(layer, 2));
      return addBias(dotLast(h, matrix(pointwiseKernel(layer).read())), bias(layer));
    },
    deltaWeight: (_layer, loraA, loraB) => depthwiseDelta(loraA, loraB),
    toPeft: (_layer, factor, t) => depthwiseToTorch(factor, t),
    fromPeft: (layer, factor, t) => depthwiseFromTorch(factor, t, depthwiseKernel(layer).shape as number[]),
  };
}

/**
 * Makes new LoRA layers on `SeparableConv2D` update `part` (registers a fresh layer kind, which takes
 * precedence). Call it before `applyLora` and before loading a saved model that used that part.
 */
export function useSeparableConv2dPart(part: SeparablePart): LayerKind {
  const kind = separableConv2dLayerKind(part);
  registerLayerKind(kind);
  return kind;
}
