import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { AdapterStateError, LoraConfigError, LoraError, LoraLayer, type LoraModel } from '@tfjs-lora/core';
import { requirePerRowLora, type PerRowStrategy } from './per-row-lora.js';

/** PEFT's name for "no adapter" in `adapter_names`. */
export const BASE_ADAPTER = '__base__';

type Kwargs = Record<string, unknown>;

/**
 * Inference-only stand-in for a {@link LoraLayer} in a mixed-adapter view: inputs `[x, adapterIndex]`,
 * output `act(base(x) + per-row LoRA)`, reading the LoRA layer's own variables (nothing is copied).
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
      const { target } = this;
      const { kind, layer } = target;
      const base = kind.baseForward(layer, x!);
      if (target.disabled) return kind.activate(layer, base);
      if (target.merged.length > 0) {
        throw new AdapterStateError(
          `Layer '${target.name}' has merged adapters (${target.merged.join(', ')}); per-row adapters need unmerged weights, as in PEFT. Call unmerge() first.`,
        );
      }
      const present = this.names.map((n) => (target.adapterNames.includes(n) ? target.weightsOf(n) : null));
      const live = present.filter((w) => w !== null);
      if (live.length === 0) return kind.activate(layer, base);
      if (live.some((w) => w.magnitude)) {
        throw new LoraConfigError(
          `Layer '${target.name}' has a DoRA adapter; per-row adapters do not support DoRA (nor does PEFT). Use setAdapter().`,
          { field: 'useDora' },
        );
      }
      const rMax = Math.max(...live.map((w) => w.spec.r));
      const local = present.map((w) => (w ? live.indexOf(w) : -1));
      const rowIndex = tf.tidy(() => {
        const idx = tf.reshape(tf.cast(index!, 'int32'), [-1]) as tf.Tensor1D;
        const mapped = tf.gather(tf.tensor1d(local, 'int32'), tf.maximum(idx, tf.scalar(0, 'int32')));
        return tf.where(tf.less(idx, tf.scalar(0, 'int32')), tf.fill(idx.shape, -1, 'int32'), mapped) as tf.Tensor1D;
      });
      const pad = (t: tf.Tensor, axis: number, r: number) =>
        r === rMax ? t : tf.pad(t, t.shape.map((_, i) => (i === axis ? [0, rMax - r] : [0, 0])) as [number, number][]);
      const loraA = tf.stack(live.map((w) => pad(w.loraA.read(), w.loraA.shape.length - 1, w.spec.r)));
      const loraB = tf.stack(live.map((w) => pad(w.loraB.read(), 0, w.spec.r)));
      const scalings = tf.tensor1d(live.map((w) => w.scaling));
      const delta = requirePerRowLora(
        kind.name,
        target.name,
      )({ layer, x: x!, loraA, loraB, scalings, rowIndex, strategy: this.strategy });
      return kind.activate(layer, tf.add(base, delta));
    });
  }
}

/** A functional view of a LoRA model that takes one adapter index per batch row as an extra input. */
export interface MixedAdapterView {
  /** Inputs: the model's inputs followed by `adapter_index` [batch, 1] (int32, -1 = base). */
  readonly model: tfl.LayersModel;
  /** The adapter names, in index order. */
  readonly adapterNames: readonly string[];
  /** Adapter indices [batch, 1] for per-row names (`'__base__'` → -1); throws naming unknown adapters. */
  indexOf(names: readonly string[]): tf.Tensor2D;
  /** One forward pass, row i with adapter `adapterNames[i]` (`'__base__'` = none). */
  predict(inputs: tf.Tensor | tf.Tensor[], adapterNames: readonly string[]): tf.Tensor | tf.Tensor[];
  /**
   * Releases the view. It holds references to the LoRA model's layers (tfjs counts every model a layer is
   * used in), so dispose it before or after the LoRA model, or that model's weights are never freed.
   */
  dispose(): void;
}

function entryInputs(
  entry: { inboundNodes?: unknown },
  outputs: Map<string, tfl.SymbolicTensor[]>,
  name: string,
): { inputs: tfl.SymbolicTensor[]; kwargs: Kwargs } {
  const nodes = (entry.inboundNodes ?? []) as [string, number, number, Kwargs?][][];
  if (nodes.length !== 1) {
    throw new LoraError(
      `Layer '${name}' is applied ${nodes.length} times in the model; mixed-adapter views support layers applied once. Found a shared layer.`,
    );
  }
  const inputs = nodes[0]!.map(([from, , tensor]) => outputs.get(from)![tensor]!);
  return { inputs, kwargs: nodes[0]![0]?.[3] ?? {} };
}

/**
 * Builds the per-row mixed-adapter view of a LoRA model (PEFT's `adapter_names` forward, without PEFT's loop
 * over adapters): every LoRA layer becomes a {@link PerRowLoraLayer} that stacks the adapters' factors and
 * applies each row's (the active backend's fused `multiAdapterMatMul` when it has one, else a masked product
 * with all adapters side by side or a per-row gather and batched matmul; `strategy` picks, see `denseRows`). The
 * view shares all variables with `lm.model`; rebuild it after `addAdapter`/`deleteAdapter`. Sequential and
 * functional models whose LoRA layers are at the top level are supported; inference only.
 */
export function mixedAdapterView(lm: LoraModel, options: { strategy?: PerRowStrategy } = {}): MixedAdapterView {
  const model = lm.model;
  for (const name of lm.adapterNames) {
    if ((lm.peftConfig(name).modulesToSave ?? []).length > 0) {
      throw new LoraConfigError(
        `Adapter '${name}' has modules_to_save; per-row mixed adapters support LoRA layers only. Use setAdapter() for it.`,
        { field: 'modulesToSave' },
      );
    }
  }
  const names = lm.adapterNames;
  const index = tfl.input({ shape: [1], dtype: 'int32', name: 'adapter_index' });
  const apply = (layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[], kwargs: Kwargs): tfl.SymbolicTensor[] => {
    const x = inputs.length === 1 ? inputs[0]! : inputs;
    const out =
      layer instanceof LoraLayer
        ? new PerRowLoraLayer(layer, names, options.strategy).apply([inputs[0]!, index])
        : layer.apply(x, kwargs);
    return (Array.isArray(out) ? out : [out]) as tfl.SymbolicTensor[];
  };
  for (const layer of model.layers) {
    if ((layer as { layers?: unknown }).layers && lm.loraLayers().some((l) => l.path.startsWith(`${layer.name}.`))) {
      throw new LoraError(
        `LoRA layers inside the nested model '${layer.name}' are not supported by mixed-adapter views; build the model flat (functional) instead.`,
      );
    }
  }
  let outputs: tfl.SymbolicTensor[];
  if (model instanceof tfl.Sequential) {
    outputs = model.inputs;
    for (const layer of model.layers) outputs = apply(layer, outputs, {});
  } else {
    const config = model.getConfig() as unknown as {
      layers: { name: string; className: string; inboundNodes?: unknown }[];
      outputLayers: [string, number, number][];
    };
    const made = new Map<string, tfl.SymbolicTensor[]>();
    model.inputLayers.forEach((l, i) => made.set(l.name, [model.inputs[i]!]));
    for (const entry of config.layers) {
      if (made.has(entry.name)) continue;
      const { inputs, kwargs } = entryInputs(entry, made, entry.name);
      made.set(entry.name, apply(model.getLayer(entry.name), inputs, kwargs));
    }
    outputs = config.outputLayers.map(([name, , tensor]) => made.get(name)![tensor]!);
  }
  const view = tfl.model({
    inputs: [...model.inputs, index],
    outputs: outputs.length === 1 ? outputs[0]! : outputs,
    name: `${model.name}_per_row`,
  });
  const indexOf = (rows: readonly string[]): tf.Tensor2D => {
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
    return tf.tensor2d(idx, [idx.length, 1], 'int32');
  };
  return {
    model: view,
    adapterNames: names,
    indexOf,
    predict(inputs, rows) {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const batch = list[0]!.shape[0];
      if (rows.length !== batch) {
        throw new LoraConfigError(
          `adapterNames needs one name per batch row: expected ${batch}, found ${rows.length}. Pass '${BASE_ADAPTER}' for rows without adapter.`,
          { field: 'adapterNames' },
        );
      }
      const index = indexOf(rows);
      try {
        return view.predictOnBatch([...list, index]);
      } finally {
        index.dispose();
      }
    },
    dispose: () => void view.dispose(),
  };
}

/**
 * One forward pass in which batch row i uses adapter `adapterNames[i]` (`'__base__'` = the base model), as
 * PEFT's `model(x, adapter_names=[...])`, computed without a loop over adapters. Builds a
 * {@link mixedAdapterView} for the call and releases it; for repeated calls build the view once and use its
 * `predict`.
 */
export function predictWithAdapters(
  lm: LoraModel,
  inputs: tf.Tensor | tf.Tensor[],
  adapterNames: readonly string[],
  options: { strategy?: PerRowStrategy } = {},
): tf.Tensor | tf.Tensor[] {
  const view = mixedAdapterView(lm, options);
  try {
    return view.predict(inputs, adapterNames);
  } finally {
    view.dispose();
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
