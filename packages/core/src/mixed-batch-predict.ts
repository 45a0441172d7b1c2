// Mixed-adapter batches at the model level (PEFT's `model(x, adapter_names=[...])`): predictWithAdapters()
// hands every LoRA layer of a LoraModel the row → adapter index for one forward pass (each layer then serves
// its rows, mixed-batch.ts), and predictLoopingAdapters() is PEFT's loop over adapters, the reference.
import * as tf from '@tensorflow/tfjs-core';
import { AdapterStateError, LoraConfigError } from './errors/index.js';
import type { PerRowStrategy } from './layer-kind-types.js';
import type { LoraModel } from './lora-model.js';
import { BASE_ADAPTER, type MixedBatch } from './mixed-batch.js';

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
