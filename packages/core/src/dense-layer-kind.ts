import * as tf from '@tensorflow/tfjs-core';
import { activeKernels } from './backend.js';
import { initDenseLora } from './init.js';
import { doraLinear } from './dora-linear.js';
import { doraVariant } from './dora-variant.js';
import { loraLinear } from './lora-linear.js';
import type { Layer, LayerKind } from './layer-kind.js';
import { applyConfiguredActivation, requireWeight, weightByName } from './layer-weights.js';
import { dotLast } from './math.js';
import { denseRows } from './per-row-lora.js';

/** {@link loraLinear} on a Dense layer's weights; null when its kernel trains (autodiff then). */
function customGradDense(
  layer: Layer,
  x: tf.Tensor,
  loraInput: tf.Tensor,
  loraA: tf.Tensor,
  loraB: tf.Tensor,
  scaling: number,
): tf.Tensor | null {
  const kernel = requireWeight(layer, 'kernel');
  if (kernel.trainable) return null;
  const b = weightByName(layer, 'bias');
  return loraLinear({
    x,
    kernel: kernel.read() as tf.Tensor2D,
    loraA: loraA as tf.Tensor2D,
    loraB: loraB as tf.Tensor2D,
    scaling,
    ...(b ? { bias: b.read() as tf.Tensor1D } : {}),
    ...(loraInput !== x ? { loraInput } : {}),
  });
}

/** The built-in layer kind for tfjs `Dense` layers (PyTorch `nn.Linear` in PEFT). */
export const denseLayerKind: LayerKind = {
  name: 'dense',
  layerClasses: ['Dense'],
  isLinear: true,
  peftNames: { loraA: 'lora_A', loraB: 'lora_B' },
  inputDropout: true,
  kernel: (layer) => requireWeight(layer, 'kernel'),
  bias: (layer) => weightByName(layer, 'bias'),
  factorShapes(layer, r) {
    const [inF, outF] = requireWeight(layer, 'kernel').shape as number[];
    return { loraA: [inF, r], loraB: [r, outF] };
  },
  initFactors(layer, r, scaling, mode, seed) {
    const kernel = requireWeight(layer, 'kernel').read() as tf.Tensor2D;
    return initDenseLora(kernel, r, scaling, mode, { seed });
  },
  baseForward(layer, x) {
    const y = dotLast(x, requireWeight(layer, 'kernel').read());
    const b = weightByName(layer, 'bias');
    return b ? tf.add(y, b.read()) : y;
  },
  loraForward: (_layer, x, loraA, loraB) => dotLast(dotLast(x, loraA), loraB),
  // Precedence: a backend's fused `loraMatMul` (e.g. WebGPU, with its own gradient) for rank-2 input
  // without dropout; otherwise the hand-written gradient of `loraLinear`; null (autodiff of the composed
  // form) only when the base kernel trains.
  fusedForward(layer, { x, loraInput, loraA, loraB, scaling }) {
    const fused = activeKernels().loraMatMul;
    if (fused && x.rank === 2 && !loraInput) {
      const b = weightByName(layer, 'bias');
      return fused({
        x: x as tf.Tensor2D,
        kernel: requireWeight(layer, 'kernel').read() as tf.Tensor2D,
        loraA: loraA as tf.Tensor2D,
        loraB: loraB as tf.Tensor2D,
        scaling,
        bias: b ? (b.read() as tf.Tensor1D) : undefined,
      });
    }
    return customGradDense(layer, x, loraInput ?? x, loraA, loraB, scaling);
  },
  mixedBatchForward: denseRows,
  deltaWeight: (_layer, loraA, loraB) => tf.matMul(loraA as tf.Tensor2D, loraB as tf.Tensor2D),
  activate: applyConfiguredActivation,
  dora: doraVariant({
    weightNorm: (_layer, weight) => tf.norm(weight, 'euclidean', 0) as tf.Tensor1D,
    fusedForward(layer, { x, loraA, loraB, magnitude, scaling }) {
      const kernel = requireWeight(layer, 'kernel');
      if (kernel.trainable) return null;
      const b = weightByName(layer, 'bias');
      return doraLinear({
        x,
        kernel: kernel.read() as tf.Tensor2D,
        loraA: loraA as tf.Tensor2D,
        loraB: loraB as tf.Tensor2D,
        magnitude: magnitude as tf.Tensor1D,
        scaling,
        ...(b ? { bias: b.read() as tf.Tensor1D } : {}),
      });
    },
  }),
  toPeft: (_layer, _factor, t) => tf.transpose(t),
  fromPeft: (_layer, _factor, t) => tf.transpose(t),
};

/** @deprecated use {@link denseLayerKind}; removed in 0.3 */
export const denseAdapter = denseLayerKind;
