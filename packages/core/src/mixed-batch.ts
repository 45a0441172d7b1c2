// Mixed-adapter batches (PEFT's `model(x, adapter_names=[...])`): every LoRA layer serves one adapter per batch
// row, without a loop over adapters where the layer kind has per-row math (Dense: the backend's fused
// `multiAdapterMatMul` or a masked/gathered product; Embedding), and with one masked term per adapter elsewhere
// (convolutions). predictWithAdapters() (mixed-batch-predict.ts) hands each LoRA layer the row → adapter index
// for one forward pass.
import * as tf from '@tensorflow/tfjs-core';
import { AdapterStateError, LoraConfigError } from './errors/index.js';
import type { Layer, LayerKind } from './layer-kind.js';
import type { AdapterWeights } from './lora-layer-state.js';
import { composedRows, stackFactors, type PerRowStrategy } from './per-row-lora.js';

/** PEFT's name for "no adapter" in `adapter_names`. */
export const BASE_ADAPTER = '__base__';

/** The row → adapter assignment of one mixed batch, as each LoRA layer receives it. */
export interface MixedBatch {
  /** Adapter names in index order. */
  readonly adapterNames: readonly string[];
  /** Adapter index per batch row [batch] (int32); -1 = the base model. */
  readonly rowIndex: tf.Tensor1D;
  /** Composed form of the per-row product (see `denseRows`); a fused backend kernel wins. */
  readonly strategy?: PerRowStrategy;
}

/** What the mixed forward reads of one LoRA layer. */
export interface MixedBatchTarget {
  /** The LoRA layer's name (for messages). */
  readonly name: string;
  /** The wrapped base layer. */
  readonly layer: Layer;
  /** Its layer kind. */
  readonly kind: LayerKind;
  /** Base-only forward when true. */
  readonly disabled: boolean;
  /** Adapters merged into the kernel. */
  readonly merged: string[];
  /** Names of the adapters in the layer. */
  readonly adapterNames: string[];
  /** An adapter's variables. */
  weightsOf(name: string): AdapterWeights;
}

/**
 * A LoRA layer's pre-activation output for a mixed batch: `base(x) + per-row LoRA`, the layer kind's
 * `mixedBatchForward` on stacked factors when it has one, else one masked term per adapter. Rows whose adapter
 * is not in this layer get the base output (as PEFT). No DoRA (PEFT has none either), no merged adapters.
 */
export function mixedBatchForward(t: MixedBatchTarget, x: tf.Tensor, batch: MixedBatch): tf.Tensor {
  const { layer, kind } = t;
  const base = kind.baseForward(layer, x);
  if (t.disabled) return base;
  if (t.merged.length > 0) {
    throw new AdapterStateError(
      `Layer '${t.name}' has merged adapters (${t.merged.join(', ')}); per-row adapters need unmerged weights, as in PEFT. Call unmerge() first.`,
    );
  }
  const present = batch.adapterNames.map((n) => (t.adapterNames.includes(n) ? t.weightsOf(n) : null));
  const live = present.filter((w) => w !== null);
  if (live.length === 0) return base;
  if (live.some((w) => w.spec.useDora)) {
    throw new LoraConfigError(
      `Layer '${t.name}' has a DoRA adapter; per-row adapters do not support DoRA (nor does PEFT). Use setAdapter().`,
      { field: 'useDora' },
    );
  }
  const local = tf.tensor1d(
    present.map((w) => (w ? live.indexOf(w) : -1)),
    'int32',
  );
  const idx = tf.reshape(tf.cast(batch.rowIndex, 'int32'), [-1]) as tf.Tensor1D;
  const mapped = tf.gather(local, tf.maximum(idx, tf.scalar(0, 'int32')));
  const rowIndex = tf.where(
    tf.less(idx, tf.scalar(0, 'int32')),
    tf.fill(idx.shape, -1, 'int32'),
    mapped,
  ) as tf.Tensor1D;
  const delta = kind.mixedBatchForward
    ? kind.mixedBatchForward({ layer, x, rowIndex, ...stackFactors(live), strategy: batch.strategy ?? 'auto' })
    : composedRows(layer, kind, x, live, rowIndex)!;
  return tf.add(base, delta);
}
