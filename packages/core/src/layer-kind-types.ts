// The layer-kind contract as types only: a layer kind (LayerKind), the variants it declares (LoraVariant,
// DoraVariant), its optional per-row math for mixed-adapter batches (PerRowLora), and the adapter weights they
// all act on. Implementations live in layer-kind.ts (registry), lora-variant.ts, dora-variant.ts,
// per-row-lora.ts and lora-layer-state.ts; keeping the types here, importing none of them, keeps core free of
// import circles.
import type * as tf from '@tensorflow/tfjs-core';
import type { layers, LayerVariable } from '@tensorflow/tfjs-layers';
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

/** The per-adapter hyper-parameters a LoRA layer keeps (and serialises). */
export interface LoraAdapterSpec {
  /** Rank. */
  r: number;
  /** Alpha; scaling is alpha/r, or alpha/√r with rsLoRA. */
  loraAlpha: number;
  /** Dropout rate on the LoRA branch's input during training. */
  loraDropout: number;
  /** Rank-stabilised scaling alpha/√r. */
  useRslora: boolean;
  /** Weight-decomposed LoRA (DoRA). */
  useDora: boolean;
}

/** One adapter's variables in a layer. */
export interface AdapterWeights {
  /** Hyper-parameters. */
  spec: LoraAdapterSpec;
  /** alpha/r or alpha/√r. */
  scaling: number;
  /** Down-projection A (tfjs layout of the layer kind). */
  loraA: LayerVariable;
  /** Up-projection B. */
  loraB: LayerVariable;
  /** DoRA magnitude vector [out], when useDora. */
  magnitude?: LayerVariable;
}

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

/** Arguments of a layer kind's fused DoRA forward. */
export interface DoraFusedArgs {
  /** The layer's input. */
  x: tf.Tensor;
  /** LoRA A. */
  loraA: tf.Tensor;
  /** LoRA B. */
  loraB: tf.Tensor;
  /** The magnitude m [out]. */
  magnitude: tf.Tensor;
  /** alpha/r or alpha/√r. */
  scaling: number;
}

/** The DoRA variant of one layer kind: a {@link LoraVariant} plus the magnitude's norm and PEFT layout. */
export interface DoraVariant extends LoraVariant {
  /** The norm of a kernel-shaped weight per output unit ([out]). */
  weightNorm(layer: Layer, weight: tf.Tensor): tf.Tensor1D;
  /** The magnitude in PEFT's layout (e.g. [1, out, 1, 1] for a Conv2d) from ours ([out]). */
  magnitudeToPeft(layer: Layer, magnitude: tf.Tensor): tf.Tensor;
  /** Our magnitude ([out]) from PEFT's layout; throws a ShapeMismatch-style error via the caller when the size differs. */
  magnitudeFromPeft(layer: Layer, magnitude: tf.Tensor): tf.Tensor;
  /** PEFT's shape of the magnitude of this layer. */
  peftMagnitudeShape(layer: Layer, kind: LayerKind): number[];
}

/** How the composed per-row product is formed (see {@link denseRows}). */
export type PerRowStrategy = 'auto' | 'masked' | 'gather';

/** Stacked factors of k adapters for one layer, rank-padded to a common r, and a row → adapter index. */
export interface PerRowLoraArgs {
  /** The wrapped base layer. */
  layer: Layer;
  /** The layer's input; its first axis is the batch. */
  x: tf.Tensor;
  /** Stacked A factors [k, ...A shape] (tfjs layout of the layer kind, r padded with zeros). */
  loraA: tf.Tensor;
  /** Stacked B factors [k, ...B shape]. */
  loraB: tf.Tensor;
  /** Scaling per adapter [k]. */
  scalings: tf.Tensor1D;
  /** Adapter index per batch row [batch] (int32); -1 = no adapter for that row. */
  rowIndex: tf.Tensor1D;
  /** Composed form: `'auto'` (default: {@link useMaskedForm}), `'masked'` or `'gather'`. A fused backend kernel wins over both. */
  strategy?: PerRowStrategy;
}

/**
 * The per-row LoRA update of one layer kind from stacked factors (the Dense convention: A's last axis and
 * B's first axis are the rank): row i gets scaling[idx[i]] · B[idx[i]](A[idx[i]](x[i])), zeros where idx is -1.
 */
export type PerRowLora = (args: PerRowLoraArgs) => tf.Tensor;
