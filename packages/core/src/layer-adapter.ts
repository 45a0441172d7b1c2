import type * as tf from '@tensorflow/tfjs-core';
import type { layers, LayerVariable } from '@tensorflow/tfjs-layers';
import { LoraError } from './errors/index.js';
import type { InitLoraWeights } from './config.js';
import { denseAdapter } from './dense-adapter.js';

/** A tfjs-layers layer. */
export type Layer = layers.Layer;

/** Initial LoRA factors for one layer, and the new base kernel when the method moves part of W out. */
export interface FactorInit {
  /** LoRA A in this adapter's tfjs layout. */
  loraA: tf.Tensor;
  /** LoRA B in this adapter's tfjs layout. */
  loraB: tf.Tensor;
  /** New base kernel (PiSSA, OLoRA); undefined when W is unchanged. */
  residualKernel?: tf.Tensor;
}

/** Which of PEFT's tensors a factor is, for conversion to and from PEFT's PyTorch layout. */
export type FactorName = 'loraA' | 'loraB';

/**
 * The LoRA math for one kind of layer (Dense, Conv2D, Embedding...). The generic LoRA wrapper layer
 * delegates to it; packages add layer kinds by calling {@link registerLayerAdapter} without touching core.
 * Tensors are in tfjs layout: for Dense, kernel [in,out], A [in,r], B [r,out], ΔW = s·A·B.
 */
export interface LayerAdapter {
  /** Adapter name, e.g. `'dense'`. */
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
   * Optional fused path: base output plus `scaling`·B(A(x)) in one call (e.g. a backend's fused
   * matmul). Returns null when no fused kernel applies; the wrapper then composes.
   */
  fusedForward?(layer: Layer, x: tf.Tensor, loraA: tf.Tensor, loraB: tf.Tensor, scaling: number): tf.Tensor | null;
  /**
   * Optional training path with LoRA dropout: base output of `x` plus `scaling`·B(A(`loraInput`)), where
   * `loraInput` is dropout(x) (PEFT drops the LoRA branch's input only), e.g. with a hand-written
   * gradient. Returns null when it does not apply; the wrapper then composes (autodiff).
   */
  dropoutForward?(
    layer: Layer,
    x: tf.Tensor,
    loraInput: tf.Tensor,
    loraA: tf.Tensor,
    loraB: tf.Tensor,
    scaling: number,
  ): tf.Tensor | null;
  /**
   * Optional DoRA path (one live adapter, no LoRA dropout): `(m/‖W + s·ΔW‖)·(base(x) − bias + s·B(A(x))) + bias`
   * with the norm detached, e.g. with hand-written gradients. Null when it does not apply (composed then).
   */
  doraForward?(
    layer: Layer,
    x: tf.Tensor,
    loraA: tf.Tensor,
    loraB: tf.Tensor,
    magnitude: tf.Tensor,
    scaling: number,
  ): tf.Tensor | null;
  /** The unscaled ΔW = A·B in the kernel's shape. */
  deltaWeight(layer: Layer, loraA: tf.Tensor, loraB: tf.Tensor): tf.Tensor;
  /** The layer's activation applied to a pre-activation output. */
  activate(layer: Layer, y: tf.Tensor): tf.Tensor;
  /** DoRA: the norm of a kernel-shaped weight per output unit ([out]); absent when DoRA is unsupported. */
  weightNorm?(layer: Layer, weight: tf.Tensor): tf.Tensor1D;
  /** Converts a factor to PEFT's PyTorch layout (e.g. A [in,r] to lora_A.weight [r,in]). */
  toPeft(layer: Layer, factor: FactorName, t: tf.Tensor): tf.Tensor;
  /** Converts a factor from PEFT's PyTorch layout (LoRA factors keep nn.Linear layout even with fan_in_fan_out). */
  fromPeft(layer: Layer, factor: FactorName, t: tf.Tensor): tf.Tensor;
  /** Whether LoRA dropout applies to this layer's input (false where inputs are ids). */
  readonly inputDropout: boolean;
}

const adapters: LayerAdapter[] = [denseAdapter];

/**
 * Registers a layer adapter. The last registered adapter for a class wins, so a package can refine
 * another's; registering the same object twice is a no-op.
 */
export function registerLayerAdapter(adapter: LayerAdapter): void {
  if (adapters.includes(adapter)) return;
  adapters.unshift(adapter);
}

/** Every registered layer adapter, most recently registered first. */
export function listLayerAdapters(): readonly LayerAdapter[] {
  return [...adapters];
}

/** The adapter for a tfjs class name, or undefined. */
export function findLayerAdapter(className: string): LayerAdapter | undefined {
  return adapters.find((a) => a.layerClasses.includes(className));
}

/** The adapter for a tfjs class name; throws naming the supported classes when none handles it. */
export function requireLayerAdapter(className: string, where = ''): LayerAdapter {
  const found = findLayerAdapter(className);
  if (found) return found;
  const supported = [...new Set(adapters.flatMap((a) => a.layerClasses))].join(', ');
  throw new LoraError(
    `No LoRA layer adapter handles '${className}'${where ? ` (layer '${where}')` : ''}. ` +
      `Supported layer classes: ${supported}. Import the package that adds it ` +
      `(@tfjs-lora/vision for convolutions, @tfjs-lora/nlp for Embedding and attention), or remove it from targetModules.`,
  );
}
