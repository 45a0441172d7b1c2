// LoRA variants as strategies (PEFT's `LoraVariant`, peft/tuners/lora/variants.py): what differs between
// plain LoRA and DoRA — the forward term, the merged kernel, the variables an adapter needs — lives in one
// object per variant, so the LoRA layer's forward and merge read as one path for every adapter.
import * as tf from '@tensorflow/tfjs-core';
import { LoraConfigError } from './errors/index.js';
import type { Layer, LayerKind, LoraVariant, VariantTarget } from './layer-kind-types.js';
import { scale } from './math.js';

export type { ComposedTerms, LoraVariant, VariantTarget } from './layer-kind-types.js';

/** s·ΔW of one adapter in the kernel's shape. */
export function scaledDelta({ layer, kind, weights: w }: VariantTarget): tf.Tensor {
  return scale(kind.deltaWeight(layer, w.loraA.read(), w.loraB.read()), w.scaling);
}

/** Plain LoRA: `y + s·B(A(x))`; merging adds s·ΔW to the kernel. */
export const loraVariant: LoraVariant = {
  name: 'lora',
  fusedForward: ({ layer, kind, weights: w }, x, loraInput) =>
    kind.fusedForward?.(layer, {
      x,
      ...(loraInput ? { loraInput } : {}),
      loraA: w.loraA.read(),
      loraB: w.loraB.read(),
      scaling: w.scaling,
    }) ?? null,
  forward: ({ weights: w }, { y, low }) => tf.add(y, scale(low, w.scaling)),
  extraVariables: () => ({}),
  initialise: () => undefined,
  merge: (t, weight) => tf.add(weight, scaledDelta(t)),
  unmerge: (t, weight) => tf.sub(weight, scaledDelta(t)),
};

/** The variant an adapter uses on a layer kind; throws when the kind does not support it. */
export function variantFor(kind: LayerKind, useDora: boolean, layer: Layer): LoraVariant {
  if (!useDora) return loraVariant;
  if (!kind.dora) {
    throw new LoraConfigError(
      `DoRA is not supported for ${layer.getClassName()} layers ('${layer.name}'). Set useDora: false for it.`,
      { field: 'useDora' },
    );
  }
  return kind.dora;
}

/** The kernel with each adapter merged in, in order (each by its variant). */
export function mergeAll(
  weight: tf.Tensor,
  adapters: readonly (VariantTarget & { variant: LoraVariant })[],
): tf.Tensor {
  return adapters.reduce((w, a) => a.variant.merge(a, w), weight);
}

/** The kernel with the merges of `adapters` (in merge order) undone arithmetically, last first. */
export function unmergeAll(
  weight: tf.Tensor,
  adapters: readonly (VariantTarget & { variant: LoraVariant })[],
): tf.Tensor {
  return [...adapters].reverse().reduce((w, a) => a.variant.unmerge(a, w), weight);
}
