// Mixed-adapter batches (PEFT's `model(x, adapter_names=[...])`): every LoRA layer serves one adapter per batch
// row, without a loop over adapters where the layer kind has per-row math (Dense: the backend's fused
// `multiAdapterMatMul` or a masked/gathered product; Embedding), and with one masked term per adapter elsewhere
// (convolutions). predictWithAdapters() hands each LoRA layer the row → adapter index for one forward pass.
import * as tf from '@tensorflow/tfjs-core';
import { AdapterStateError, LoraConfigError } from './errors/index.js';
import type { Layer, LayerKind } from './layer-kind.js';
import type { AdapterWeights } from './lora-layer-state.js';
import type { LoraModel } from './lora-model.js';
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

/** Adapter indices [batch] for per-row names (`'__base__'` → -1); throws naming unknown adapters. */
function rowIndexOf(names: readonly string[], rows: readonly string[]): tf.Tensor1D {
  const idx = rows.map((n) => {
    if (n === BASE_ADAPTER) return -1;
    const i = names.indexOf(n);
    if (i < 0)
      throw new AdapterStateError(
        `Unknown adapter '${n}' in adapterNames; adapters: ${names.join(', ')} (or '${BASE_ADAPTER}' for none).`,
        { adapter: n },
      );
    return i;
  });
  return tf.tensor1d(idx, 'int32');
}

/**
 * One forward pass in which batch row i uses adapter `adapterNames[i]` (`'__base__'` = the base model), as
 * PEFT's `model(x, adapter_names=[...])`: every LoRA layer (Dense, Embedding, convolutions, ...) serves its
 * rows' adapters in the same pass, using the active backend's fused `multiAdapterMatMul` for Dense layers when
 * it has one. Inference only; adapters with modules_to_save, DoRA or merged weights are refused.
 */
export function predictWithAdapters(
  lm: LoraModel,
  inputs: tf.Tensor | tf.Tensor[],
  adapterNames: readonly string[],
  options: { strategy?: PerRowStrategy } = {},
): tf.Tensor | tf.Tensor[] {
  for (const name of lm.adapterNames) {
    if ((lm.peftConfig(name).modulesToSave ?? []).length > 0) {
      throw new LoraConfigError(
        `Adapter '${name}' has modules_to_save; per-row mixed adapters support LoRA layers only. Use setAdapter() for it.`,
        { field: 'modulesToSave' },
      );
    }
  }
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const rows = list[0]!.shape[0];
  if (adapterNames.length !== rows) {
    throw new LoraConfigError(
      `adapterNames needs one name per batch row: expected ${rows}, found ${adapterNames.length}. Pass '${BASE_ADAPTER}' for rows without adapter.`,
      { field: 'adapterNames' },
    );
  }
  const rowIndex = rowIndexOf(lm.adapterNames, adapterNames);
  const layers = lm.loraLayers().map((l) => l.layer);
  const batch: MixedBatch = { adapterNames: lm.adapterNames, rowIndex, ...options };
  try {
    for (const layer of layers) layer.mixedBatch = batch;
    return lm.model.predictOnBatch(inputs);
  } finally {
    for (const layer of layers) layer.mixedBatch = null;
    rowIndex.dispose();
  }
}

/**
 * The reference PEFT computes (`_mixed_batch_forward`): for each distinct adapter, the sub-batch of its rows
 * through the model with that adapter active (base rows with adapters disabled), results put back in row
 * order. A loop over adapters; {@link predictWithAdapters} gives the same values in one pass.
 */
export function predictLoopingAdapters(lm: LoraModel, inputs: tf.Tensor, adapterNames: readonly string[]): tf.Tensor {
  const active = lm.activeAdapters;
  const groups = new Map<string, number[]>();
  adapterNames.forEach((n, i) => groups.set(n, [...(groups.get(n) ?? []), i]));
  const parts: tf.Tensor[] = [];
  const order: number[] = [];
  try {
    for (const [name, rows] of groups) {
      const sub = tf.gather(inputs, rows);
      const run = () => lm.model.predictOnBatch(sub) as tf.Tensor;
      if (name === BASE_ADAPTER) parts.push(lm.withAdaptersDisabled(run));
      else {
        lm.setAdapter(name);
        parts.push(run());
      }
      sub.dispose();
      order.push(...rows);
    }
  } finally {
    lm.setAdapter(active);
  }
  const inverse = new Array<number>(order.length);
  order.forEach((row, j) => (inverse[row] = j));
  const result = tf.tidy(() => tf.gather(tf.concat(parts), inverse));
  tf.dispose(parts);
  return result;
}
