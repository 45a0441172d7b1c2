// LoRA variants as strategies (PEFT's `LoraVariant`, peft/tuners/lora/variants.py): what differs between
// plain LoRA and DoRA — the forward term, the merged kernel, the variables an adapter needs — lives in one
// object per variant, so the LoRA layer's forward and merge read as one path for every adapter.
import * as tf from '@tensorflow/tfjs-core';
import { LoraConfigError } from './errors/index.js';
import type { Layer, LayerKind } from './layer-kind.js';
import type { AdapterWeights } from './lora-layer-state.js';
import { scale } from './math.js';

/** One adapter in one LoRA layer: what a variant's methods work on. */
export interface VariantTarget {
  /** The adapter's name. */
  readonly adapter: string;
  /** The LoRA layer's name (for messages). */
  readonly where: string;
  /** The wrapped base layer. */
  readonly layer: Layer;
  /** Its layer kind. */
  readonly kind: LayerKind;
  /** The adapter's variables and hyper-parameters. */
  readonly weights: AdapterWeights;
}

/** The tensors of the composed forward that a variant adds its term to. */
export interface ComposedTerms {
  /** The layer's input. */
  x: tf.Tensor;
  /** The LoRA branch's input: dropout(x) while LoRA dropout applies, else x. */
  loraInput: tf.Tensor;
  /** base(x), bias included. */
  base: tf.Tensor;
  /** The sum so far (base plus earlier adapters' terms). */
  y: tf.Tensor;
  /** The unscaled low-rank branch B(A(loraInput)). */
  low: tf.Tensor;
}

/** How one variant of LoRA computes, initialises and merges an adapter (PEFT's `LoraVariant`). */
export interface LoraVariant {
  /** `'lora'` or `'dora'`. */
  readonly name: string;
  /**
   * The layer's pre-activation output with this adapter as the only live one, from a fused kernel or
   * hand-written gradients; null when none applies (the layer composes with {@link forward}).
   */
  fusedForward(t: VariantTarget, x: tf.Tensor, loraInput: tf.Tensor | undefined): tf.Tensor | null;
  /** `y` plus this adapter's term, from tfjs ops (autodiff). */
  forward(t: VariantTarget, terms: ComposedTerms): tf.Tensor;
  /** Extra variables the adapter needs beyond A and B: local name → shape. */
  extraVariables(layer: Layer, kind: LayerKind): Record<string, number[]>;
  /** Sets the extra variables after A, B (and a residual kernel) were initialised. */
  initialise(t: VariantTarget): void;
  /** The kernel `weight` with this adapter merged in. */
  merge(t: VariantTarget, weight: tf.Tensor): tf.Tensor;
  /** The kernel with this adapter's merge undone arithmetically (when no copy of W was kept). */
  unmerge(t: VariantTarget, weight: tf.Tensor): tf.Tensor;
}

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
