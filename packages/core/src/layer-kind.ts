import type * as tf from '@tensorflow/tfjs-core';
import type { layers, LayerVariable } from '@tensorflow/tfjs-layers';
import { LoraError } from './errors/index.js';
import type { DoraVariant } from './dora-variant.js';
import type { PerRowLora } from './per-row-lora.js';
import type { InitLoraWeights } from './config.js';

/** A tfjs-layers layer. */
export type Layer = layers.Layer;

/** Initial LoRA factors for one layer, and the new base kernel when the method moves part of W out. */
export interface FactorInit {
  /** LoRA A in this layer kind's tfjs layout. */
  loraA: tf.Tensor;
  /** LoRA B in this layer kind's tfjs layout. */
  loraB: tf.Tensor;
  /** New base kernel (PiSSA, OLoRA); undefined when W is unchanged. */
  residualKernel?: tf.Tensor;
}

/** One adapter's factors for {@link LayerKind.fusedForward}. */
export interface FusedLoraArgs {
  /** The layer's input. */
  x: tf.Tensor;
  /** dropout(x) while LoRA dropout applies (PEFT drops the LoRA branch's input only); undefined otherwise. */
  loraInput?: tf.Tensor;
  /** LoRA A in this layer kind's tfjs layout. */
  loraA: tf.Tensor;
  /** LoRA B in this layer kind's tfjs layout. */
  loraB: tf.Tensor;
  /** alpha/r or alpha/√r. */
  scaling: number;
}

/** Which of PEFT's tensors a factor is, for conversion to and from PEFT's PyTorch layout. */
export type FactorName = 'loraA' | 'loraB';

/**
 * The LoRA math for one kind of layer (Dense, Conv2D, Embedding...). The generic LoRA wrapper layer
 * delegates to it; packages add layer kinds by calling {@link registerLayerKind} without touching core.
 * Tensors are in tfjs layout: for Dense, kernel [in,out], A [in,r], B [r,out], ΔW = s·A·B.
 */
export interface LayerKind {
  /** Layer kind name, e.g. `'dense'`. */
  readonly name: string;
  /** tfjs layer class names it handles (`layer.getClassName()`), e.g. `['Dense']`. */
  readonly layerClasses: readonly string[];
  /** True for linear layers that `targetModules: 'all-linear'` selects. */
  readonly isLinear: boolean;
  /** PEFT's tensor names for A and B in adapter files (`lora_A`/`lora_B`, `lora_embedding_A`/...). */
  readonly peftNames: { readonly loraA: string; readonly loraB: string };
  /** Throws a LoraConfigError when this particular layer cannot take LoRA (why, and what to do). */
  check?(layer: Layer): void;
  /** The base weight that LoRA updates (its shape is ΔW's shape). */
  kernel(layer: Layer): LayerVariable;
  /** The base bias, if the layer has one. */
  bias(layer: Layer): LayerVariable | null;
  /** Shapes of A and B for rank r. */
  factorShapes(layer: Layer, r: number): { loraA: number[]; loraB: number[] };
  /** Initial factors as PEFT's `init_lora_weights` prescribes for this layer kind. */
  initFactors(layer: Layer, r: number, scaling: number, mode: InitLoraWeights, seed?: number): FactorInit;
  /** The base layer's output before its activation, bias included, from the current weights. */
  baseForward(layer: Layer, x: tf.Tensor): tf.Tensor;
  /** The unscaled low-rank branch B(A(x)), shaped like the base output. */
  loraForward(layer: Layer, x: tf.Tensor, loraA: tf.Tensor, loraB: tf.Tensor): tf.Tensor;
  /**
   * Optional single-adapter path: the base output plus `scaling`·B(A(`loraInput` ?? `x`)) in one call (a
   * backend's fused kernel, hand-written gradients, or an exact rewrite chosen for cost). Returns null
   * when it does not apply; the LoRA layer then composes {@link baseForward} and {@link loraForward}
   * (see `lora-forward.ts`, the one place that chooses).
   */
  fusedForward?(layer: Layer, args: FusedLoraArgs): tf.Tensor | null;
  /**
   * Optional per-row math for mixed-adapter batches (PEFT's `adapter_names`): the LoRA update of row i with
   * adapter rowIndex[i], from factors stacked and zero-padded to a common rank along A's last and B's first
   * axis (the Dense convention). Absent: one masked `loraForward` term per adapter (see `per-row-lora.ts`).
   */
  readonly mixedBatchForward?: PerRowLora;
  /** The unscaled ΔW = A·B in the kernel's shape. */
  deltaWeight(layer: Layer, loraA: tf.Tensor, loraB: tf.Tensor): tf.Tensor;
  /** The layer's activation applied to a pre-activation output. */
  activate(layer: Layer, y: tf.Tensor): tf.Tensor;
  /** The DoRA variant for this layer kind (see `dora-variant.ts`); absent when DoRA is unsupported. */
  readonly dora?: DoraVariant;
  /** Converts a factor to PEFT's PyTorch layout (e.g. A [in,r] to lora_A.weight [r,in]). */
  toPeft(layer: Layer, factor: FactorName, t: tf.Tensor): tf.Tensor;
  /** Converts a factor from PEFT's PyTorch layout (LoRA factors keep nn.Linear layout even with fan_in_fan_out). */
  fromPeft(layer: Layer, factor: FactorName, t: tf.Tensor): tf.Tensor;
  /** Whether LoRA dropout applies to this layer's input (false where inputs are ids). */
  readonly inputDropout: boolean;
}

const kinds: LayerKind[] = [];

/**
 * Registers a layer kind. The last registered kind for a class wins, so a package can refine another's;
 * registering the same object twice is a no-op. Core's own kinds (Dense) are registered in
 * `builtin-layer-kinds.ts`.
 */
export function registerLayerKind(kind: LayerKind): void {
  if (kinds.includes(kind)) return;
  kinds.unshift(kind);
}

/** Every registered layer kind, most recently registered first. */
export function listLayerKinds(): readonly LayerKind[] {
  return [...kinds];
}

/** The layer kind for a tfjs class name, or undefined. */
export function findLayerKind(className: string): LayerKind | undefined {
  return kinds.find((k) => k.layerClasses.includes(className));
}

/** The layer kind for a tfjs class name; throws naming the supported classes when none handles it. */
export function requireLayerKind(className: string, where = ''): LayerKind {
  const found = findLayerKind(className);
  if (found) return found;
  const supported = [...new Set(kinds.flatMap((k) => k.layerClasses))].join(', ');
  throw new LoraError(
    `No LoRA layer kind handles '${className}'${where ? ` (layer '${where}')` : ''}. ` +
      `Supported layer classes: ${supported}. Import the package that adds it ` +
      `(@tfjs-lora/vision for convolutions, @tfjs-lora/nlp for Embedding and attention), or remove it from targetModules.`,
  );
}

/** @deprecated use {@link LayerKind}; removed in 0.3 */
export type LayerAdapter = LayerKind;
/** @deprecated use {@link registerLayerKind}; removed in 0.3 */
export const registerLayerAdapter = registerLayerKind;
/** @deprecated use {@link listLayerKinds}; removed in 0.3 */
export const listLayerAdapters = listLayerKinds;
/** @deprecated use {@link findLayerKind}; removed in 0.3 */
export const findLayerAdapter = findLayerKind;
/** @deprecated use {@link requireLayerKind}; removed in 0.3 */
export const requireLayerAdapter = requireLayerKind;
