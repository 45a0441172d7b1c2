import * as tf from '@tensorflow/tfjs-core';
import { type Layer, type LayerKind } from '@tfjs-lora/core';
import { applyConfiguredActivation, dotLast, requireWeight, weightByName } from '@tfjs-lora/core/math';
import { addBias, convGeometry, type ConvGeometry } from './conv-geometry.js';
import { convDelta, convToTorch, initConvFactors } from './conv-layer-kind.js';
import { warnIfNotLowRank } from './param-budget.js';

/** Output length of a transposed convolution along one axis (tfjs-layers' `deconvLength`). */
function deconvLength(size: number, stride: number, kernel: number, padding: 'same' | 'valid'): number {
  return padding === 'valid' ? size * stride + Math.max(kernel - stride, 0) : size * stride;
}

/** A transposed convolution with the layer's geometry and a kernel [kh, kw, out, in]. */
function transposedConv(x: tf.Tensor, kernel: tf.Tensor, g: ConvGeometry): tf.Tensor {
  const [n, h, w] = x.shape;
  const [kh, kw, outC] = kernel.shape;
  const outShape: [number, number, number, number] = [
    n,
    deconvLength(h, g.strides[0], kh, g.padding),
    deconvLength(w, g.strides[1], kw, g.padding),
    outC,
  ];
  return tf.conv2dTranspose(
    x as tf.Tensor4D,
    kernel as tf.Tensor4D,
    outShape,
    g.strides as [number, number],
    g.padding,
  );
}

const kernelOf = (layer: Layer) => requireWeight(layer, 'kernel');
/** [kh, kw, out, in] ↔ [kh, kw, in, out]: the transposed conv's kernel as an ordinary conv kernel. */
const swapInOut = (t: tf.Tensor) => tf.transpose(t, [0, 1, 3, 2]);

/**
 * LoRA for tfjs `Conv2DTranspose` (kernel [kh, kw, out, in]) in the same scheme as Conv2D: A is a
 * transposed convolution from `in` to `r` channels with the base's kernel size, strides and padding
 * (A [kh, kw, r, in]), B a 1×1 convolution from `r` to `out` (B [1, 1, r, out]). Because B acts per
 * pixel after A, B(A(x)) is the transposed convolution with ΔW[h, w, o, i] = Σₖ A[h, w, k, i]·B[k, o]:
 * merging is exact. PEFT has no transposed-convolution LoRA; `toPeft` gives PyTorch's module layouts
 * (ConvTranspose2d weight [in, r, kh, kw], Conv2d weight [out, r, 1, 1]). No DoRA.
 */
export const conv2dTransposeLayerKind: LayerKind = {
  name: 'conv2d-transpose',
  layerClasses: ['Conv2DTranspose'],
  isLinear: false,
  peftNames: { loraA: 'lora_A', loraB: 'lora_B' },
  inputDropout: true,
  check: (layer) => void convGeometry(layer, 2),
  kernel: kernelOf,
  bias: (layer) => weightByName(layer, 'bias'),
  factorShapes(layer, r) {
    const [kh, kw, outC, inC] = kernelOf(layer).shape as number[];
    warnIfNotLowRank(layer, r, r * (kh * kw * inC + outC), kh * kw * inC * outC);
    return { loraA: [kh, kw, r, inC], loraB: [1, 1, r, outC] };
  },
  initFactors(layer, r, scaling, mode, seed) {
    const asConv = swapInOut(kernelOf(layer).read());
    const init = initConvFactors(asConv, r, scaling, mode, seed);
    const out = { loraA: swapInOut(init.loraA), loraB: init.loraB };
    const residual = init.residualKernel ? swapInOut(init.residualKernel) : undefined;
    tf.dispose([asConv, init.loraA, init.residualKernel].filter((t): t is tf.Tensor => t !== undefined));
    return residual ? { ...out, residualKernel: residual } : out;
  },
  baseForward(layer, x) {
    return addBias(
      transposedConv(x, kernelOf(layer).read(), convGeometry(layer, 2)),
      weightByName(layer, 'bias')?.read(),
    );
  },
  loraForward(layer, x, loraA, loraB) {
    const [r, outC] = loraB.shape.slice(-2);
    return dotLast(transposedConv(x, loraA, convGeometry(layer, 2)), tf.reshape(loraB, [r, outC]) as tf.Tensor2D);
  },
  deltaWeight: (_layer, loraA, loraB) => swapInOut(convDelta(swapInOut(loraA), loraB)),
  activate: applyConfiguredActivation,
  toPeft: (_layer, factor, t) => (factor === 'loraA' ? tf.transpose(t, [3, 2, 0, 1]) : convToTorch(t)),
  fromPeft: (_layer, factor, t) => (factor === 'loraA' ? tf.transpose(t, [2, 3, 1, 0]) : tf.transpose(t, [2, 3, 1, 0])),
};
