// Names from before the "layer kind" vocabulary and before mixed-adapter batches moved into core (0.1).
// Kept for one minor version; removed in 0.3.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  BASE_ADAPTER as CORE_BASE_ADAPTER,
  listLayerKinds,
  LoraError,
  predictLoopingAdapters as corePredictLoopingAdapters,
  predictWithAdapters as corePredictWithAdapters,
  registerLayerKind,
  type LoraLayer,
  type LoraModel,
} from '@tfjs-lora/core';
import {
  denseRows as coreDenseRows,
  dotLast as coreDotLast,
  mixedBatchForward,
  type PerRowLora as CorePerRowLora,
  type PerRowLoraArgs as CorePerRowLoraArgs,
  type PerRowStrategy,
} from '@tfjs-lora/core/math';
import { embeddingLayerKind } from './embedding-layer-kind.js';
import { mergedDenseLayerKind } from './merged-dense-layer-kind.js';
import { nlpLayerKinds, registerNlpLayerKinds } from './register.js';

/** @deprecated use {@link embeddingLayerKind}; removed in 0.3 */
export const embeddingAdapter = embeddingLayerKind;
/** @deprecated use {@link mergedDenseLayerKind}; removed in 0.3 */
export const mergedDenseAdapter = mergedDenseLayerKind;
/** @deprecated use {@link nlpLayerKinds}; removed in 0.3 */
export const nlpAdapters = nlpLayerKinds;
/** @deprecated use {@link registerNlpLayerKinds}; removed in 0.3 */
export const registerNlpAdapters = registerNlpLayerKinds;
/** @deprecated use `dotLast` from `@tfjs-lora/core` (its math subpath); removed in 0.3 */
export const dotLast = coreDotLast;

// Mixed-adapter batches moved into core's LoRA layer (Dense, Embedding and convolutions serve them).
/** @deprecated use `BASE_ADAPTER` from `@tfjs-lora/core`; removed in 0.3 */
export const BASE_ADAPTER = CORE_BASE_ADAPTER;
/** @deprecated use `predictWithAdapters` from `@tfjs-lora/core`; removed in 0.3 */
export const predictWithAdapters = corePredictWithAdapters;
/** @deprecated use `predictLoopingAdapters` from `@tfjs-lora/core`; removed in 0.3 */
export const predictLoopingAdapters = corePredictLoopingAdapters;
/** @deprecated use `denseRows` from `@tfjs-lora/core` (its math subpath); removed in 0.3 */
export const denseRows = coreDenseRows;
/** @deprecated use `PerRowLora` from `@tfjs-lora/core`; removed in 0.3 */
export type PerRowLora = CorePerRowLora;
/** @deprecated use `PerRowLoraArgs` from `@tfjs-lora/core`; removed in 0.3 */
export type PerRowLoraArgs = CorePerRowLoraArgs;

/**
 * @deprecated per-row math is a layer kind's `mixedBatchForward`; this registers a copy of the registered kind
 * named `kind` with `forward` as its per-row math. Removed in 0.3.
 */
export function registerPerRowLora(kind: string, forward: CorePerRowLora): void {
  const found = listLayerKinds().find((k) => k.name === kind);
  if (!found) {
    throw new LoraError(
      `registerPerRowLora: no layer kind named '${kind}' is registered; found ${listLayerKinds()
        .map((k) => k.name)
        .join(', ')}. Set mixedBatchForward on your LayerKind instead.`,
    );
  }
  registerLayerKind({ ...found, mixedBatchForward: forward });
}

/** @deprecated a layer kind's `mixedBatchForward` (layer kinds without one are served by core); removed in 0.3 */
export function requirePerRowLora(kind: string, layerName: string): CorePerRowLora {
  const found = listLayerKinds().find((k) => k.name === kind)?.mixedBatchForward;
  if (found) return found;
  throw new LoraError(
    `Layer '${layerName}' is '${kind}', which has no per-row math of its own; core serves it with one masked ` +
      `term per adapter. Use predictWithAdapters from @tfjs-lora/core.`,
  );
}

/** @deprecated the object {@link mixedAdapterView} returns; removed in 0.3 */
export interface MixedAdapterView {
  /** The adapter names, in index order. */
  readonly adapterNames: readonly string[];
  /** One forward pass, row i with adapter `adapterNames[i]` (`'__base__'` = none). */
  predict(inputs: tf.Tensor | tf.Tensor[], adapterNames: readonly string[]): tf.Tensor | tf.Tensor[];
  /** Nothing to release any more (kept for compatibility). */
  dispose(): void;
}

/**
 * @deprecated the LoRA layers serve mixed batches themselves: call `predictWithAdapters` from
 * `@tfjs-lora/core`. This view has no `model` any more; removed in 0.3.
 */
export function mixedAdapterView(lm: LoraModel, options: { strategy?: PerRowStrategy } = {}): MixedAdapterView {
  return {
    adapterNames: lm.adapterNames,
    predict: (inputs, rows) => corePredictWithAdapters(lm, inputs, rows, options),
    dispose: () => undefined,
  };
}

/**
 * @deprecated the LoRA layer serves mixed batches itself (`LoraLayer.mixedBatch`, set by `predictWithAdapters`
 * from `@tfjs-lora/core`). Inputs `[x, adapterIndex]`; output `act(base(x) + per-row LoRA)`. Removed in 0.3.
 */
export class PerRowLoraLayer extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'PerRowLoraLayer';
  /** The LoRA layer whose base layer and adapters this layer evaluates. */
  readonly target: LoraLayer;
  private readonly names: readonly string[];
  private readonly strategy: PerRowStrategy;

  constructor(target: LoraLayer, adapterNames: readonly string[], strategy: PerRowStrategy = 'auto') {
    super({ name: `${target.name}.per_row`, trainable: false });
    this.target = target;
    this.names = adapterNames;
    this.strategy = strategy;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return this.target.computeOutputShape((inputShape as tfl.Shape[])[0]!);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, index] = inputs as tf.Tensor[];
      const rowIndex = tf.reshape(tf.cast(index!, 'int32'), [-1]) as tf.Tensor1D;
      const batch = { adapterNames: this.names, rowIndex, strategy: this.strategy };
      return this.target.kind.activate(this.target.layer, mixedBatchForward(this.target, x!, batch));
    });
  }
}
