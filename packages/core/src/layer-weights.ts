import type * as tf from '@tensorflow/tfjs-core';
import { layers as tflLayers, type LayerVariable } from '@tensorflow/tfjs-layers';
import { LoraError } from './errors/index.js';
import type { Layer } from './layer-kind.js';

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
