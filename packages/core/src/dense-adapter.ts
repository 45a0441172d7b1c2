import * as tf from '@tensorflow/tfjs-core';
import { layers as tflLayers, type LayerVariable } from '@tensorflow/tfjs-layers';
import { activeKernels } from './backend.js';
import { LoraError } from './errors/index.js';
import { initDenseLora } from './init.js';
import type { Layer, LayerAdapter } from './layer-adapter.js';

/** Finds a layer's weight by its local name (`kernel`, `bias`, ...). */
export function weightByName(layer: Layer, local: string): LayerVariable | null {
  return layer.weights.find((w) => w.originalName === local || w.originalName.endsWith(`/${local}`)) ?? null;
}

/** A layer's weight by local name; throws when the layer is not built or has no such weight. */
export function requireWeight(layer: Layer, local: string): LayerVariable {
  const w = weightByName(layer, local);
  if (!w) {
    throw new LoraError(
      `Layer '${layer.name}' (${layer.getClassName()}) has no weight '${local}'; found: ` +
        `${layer.weights.map((v) => v.originalName).join(', ') || 'none (is it built?)'}.`,
    );
  }
  return w;
}

const activations = new WeakMap<Layer, Layer | null>();

/** Applies the activation named in a layer's config (`activation`), reusing one Activation layer. */
export function applyConfiguredActivation(layer: Layer, y: tf.Tensor): tf.Tensor {
  let act = activations.get(layer);
  if (act === undefined) {
    const name = layer.getConfig().activation as string | undefined;
    act = name && name !== 'linear' ? tflLayers.activation({ activation: name as 'relu' }) : null;
    activations.set(layer, act);
  }
  return act ? (act.apply(y) as tf.Tensor) : y;
}

/** Multiplies the last axis of x (any rank ≥ 2) by a matrix. */
function dotLast(x: tf.Tensor, m: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, m as tf.Tensor2D);
  const lead = x.shape.slice(0, -1);
  const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D;
  return tf.reshape(tf.matMul(flat, m as tf.Tensor2D), [...lead, m.shape[1] as number]);
}

/** The built-in adapter for tfjs `Dense` layers (PyTorch `nn.Linear` in PEFT). */
export const denseAdapter: LayerAdapter = {
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
  fusedForward(layer, x, loraA, loraB, scaling) {
    const fused = activeKernels().loraMatMul;
    if (!fused || x.rank !== 2) return null;
    const b = weightByName(layer, 'bias');
    return fused({
      x: x as tf.Tensor2D,
      kernel: requireWeight(layer, 'kernel').read() as tf.Tensor2D,
      loraA: loraA as tf.Tensor2D,
      loraB: loraB as tf.Tensor2D,
      scaling,
      bias: b ? (b.read() as tf.Tensor1D) : undefined,
    });
  },
  deltaWeight: (_layer, loraA, loraB) => tf.matMul(loraA as tf.Tensor2D, loraB as tf.Tensor2D),
  activate: applyConfiguredActivation,
  weightNorm: (_layer, weight) => tf.norm(weight, 'euclidean', 0) as tf.Tensor1D,
  toPeft: (_layer, _factor, t) => tf.transpose(t),
  fromPeft: (_layer, _factor, t) => tf.transpose(t),
};
