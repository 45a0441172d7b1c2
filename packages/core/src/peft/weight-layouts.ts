// How a whole tfjs layer's weights correspond to a PyTorch module's parameters, for the tensors PEFT saves
// besides LoRA factors: modules_to_save, biases (bias 'all' / 'lora_only') and saved base layers.
import * as tf from '@tensorflow/tfjs-core';

/** One PyTorch parameter of a module and the tfjs weight holding it. */
export interface PeftParamLayout {
  /** The tfjs weight's local name (`kernel`, `bias`, `gamma`, `embeddings`, ...). */
  readonly weight: string;
  /** Axis permutation taking the PyTorch tensor to the tfjs layout (`tfjs = transpose(torch, toTfjs)`); omitted = same layout. */
  readonly toTfjs?: readonly number[];
}

/** The PyTorch parameters of one tfjs layer class, by PyTorch name (`weight`, `bias`, `running_mean`, ...). */
export interface PeftWeightLayout {
  /** tfjs class names (`layer.getClassName()`). */
  readonly layerClasses: readonly string[];
  readonly params: Readonly<Record<string, PeftParamLayout>>;
}

const layouts: PeftWeightLayout[] = [
  { layerClasses: ['Dense'], params: { weight: { weight: 'kernel', toTfjs: [1, 0] }, bias: { weight: 'bias' } } },
  { layerClasses: ['Embedding'], params: { weight: { weight: 'embeddings' } } },
  { layerClasses: ['Conv1D'], params: { weight: { weight: 'kernel', toTfjs: [2, 1, 0] }, bias: { weight: 'bias' } } },
  {
    layerClasses: ['Conv2D'],
    params: { weight: { weight: 'kernel', toTfjs: [2, 3, 1, 0] }, bias: { weight: 'bias' } },
  },
  {
    layerClasses: ['Conv3D'],
    params: { weight: { weight: 'kernel', toTfjs: [2, 3, 4, 1, 0] }, bias: { weight: 'bias' } },
  },
  { layerClasses: ['LayerNormalization'], params: { weight: { weight: 'gamma' }, bias: { weight: 'beta' } } },
  {
    layerClasses: ['BatchNormalization'],
    params: {
      weight: { weight: 'gamma' },
      bias: { weight: 'beta' },
      running_mean: { weight: 'moving_mean' },
      running_var: { weight: 'moving_variance' },
    },
  },
];

/**
 * Registers the PyTorch ↔ tfjs weight correspondence of a layer class, so that its weights can be
 * loaded from and saved to PEFT files as modules_to_save or biases. The last registration for a class wins.
 */
export function registerPeftWeightLayout(layout: PeftWeightLayout): void {
  layouts.unshift(layout);
}

/** The layout registered for a tfjs class name, if any. */
export function findPeftWeightLayout(className: string): PeftWeightLayout | undefined {
  return layouts.find((l) => l.layerClasses.includes(className));
}

/** The inverse of a permutation. */
export function invertPermutation(perm: readonly number[]): number[] {
  const inv: number[] = [];
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** A PyTorch tensor in the tfjs layout. */
export function paramToTfjs(layout: PeftParamLayout, t: tf.Tensor): tf.Tensor {
  return layout.toTfjs ? tf.transpose(t, [...layout.toTfjs]) : tf.clone(t);
}

/** A tfjs weight in the PyTorch layout. */
export function paramToPeft(layout: PeftParamLayout, t: tf.Tensor): tf.Tensor {
  return layout.toTfjs ? tf.transpose(t, invertPermutation(layout.toTfjs)) : tf.clone(t);
}

/** The PyTorch shape of a tfjs weight of shape `shape`. */
export function peftShapeOf(layout: PeftParamLayout, shape: readonly number[]): number[] {
  return layout.toTfjs ? invertPermutation(layout.toTfjs).map((axis) => shape[axis]!) : [...shape];
}
