// Injecting LoRA into a model (PEFT's BaseTuner.inject_adapter): pick the layers a normalised config targets,
// wrap each in a LoraLayer by rebuilding the model (weights carried over), initialise the new adapter's
// factors, mark which weights train and count them. LoraModel drives these steps; none normalises a config.
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { layerSettings, type LoraConfig } from './config.js';
import { matchesSelector } from './config/patterns.js';
import { selectTargets } from './config/targets.js';
import { requireLayerKind, type Layer } from './layer-kind.js';
import { LoraLayer } from './lora-layer.js';
import { encodeLoraState } from './lora-layer-state.js';
import {
  carryWeights,
  isBias,
  isBuffer,
  layerInfos,
  rebuildModel,
  setWeightsTrainable,
  walkLayers,
  type LayerEntry,
} from './model-graph.js';

/** The paths of the layers `config` selects in `model`; throws when one has no registered layer kind. */
export function adapterTargets(model: LayersModel, config: LoraConfig): Set<string> {
  const targets = selectTargets(config, layerInfos(model));
  for (const t of targets) requireLayerKind(t.className, t.path);
  return new Set(targets.map((t) => t.path));
}

function wrapEntry(entry: LayerEntry, adapterName: string, config: LoraConfig, path: string): LayerEntry {
  const inner = entry.config;
  const wrapped: tf.serialization.ConfigDict = {
    name: inner['name'],
    trainable: true,
    layer: { className: entry.className, config: inner },
    lora: encodeLoraState({ adapters: { [adapterName]: layerSettings(config, path) }, activeAdapters: [adapterName] }),
  };
  if (inner['batchInputShape']) wrapped['batchInputShape'] = inner['batchInputShape'];
  if (inner['dtype']) wrapped['dtype'] = inner['dtype'];
  return { ...entry, className: 'LoraLayer', config: wrapped };
}

/**
 * A new model in which the layers at `paths` are wrapped in LoraLayers holding adapter `name` (zero
 * factors; see {@link initAdapter}), every other weight copied from `model`. `model` is left as it is.
 */
export function wrapLayers(
  model: LayersModel,
  paths: ReadonlySet<string>,
  name: string,
  config: LoraConfig,
): LayersModel {
  const rebuilt = rebuildModel(model, (entry, path) =>
    paths.has(path) ? wrapEntry(entry, name, config, path) : entry,
  );
  carryWeights(model, rebuilt);
  return rebuilt;
}

/**
 * Adds adapter `name` to a model that has LoRA layers (PEFT's inject_adapter, `update_layer` on layers
 * already wrapped): wraps the targeted layers no adapter wraps yet (the model is rebuilt and the old one
 * disposed) and adds the adapter to the others, with zero factors (see {@link initAdapter}). Returns the
 * model that now holds the adapter and the targeted paths.
 */
export function injectAdapter(
  model: LayersModel,
  name: string,
  config: LoraConfig,
): { model: LayersModel; targets: Set<string> } {
  const targets = adapterTargets(model, config);
  const wrapped = new Set(loraLayersOf(model).map((l) => l.path));
  const fresh = new Set([...targets].filter((p) => !wrapped.has(p)));
  let current = model;
  if (fresh.size > 0) {
    current = wrapLayers(model, fresh, name, config);
    model.dispose();
  }
  const layers = new Map(loraLayersOf(current).map((l) => [l.path, l.layer]));
  for (const path of targets) if (!fresh.has(path)) layers.get(path)?.addAdapter(name, layerSettings(config, path));
  return { model: current, targets };
}

/** A new model of stock layers: every LoraLayer replaced by the layer it wraps, with its current weights. */
export function unwrapLayers(model: LayersModel): LayersModel {
  const plain = rebuildModel(model, (entry) => {
    if (entry.className !== 'LoraLayer') return entry;
    const inner = entry.config['layer'] as unknown as LayerEntry;
    return { ...entry, className: inner.className, config: { ...inner.config, name: entry.config['name'] } };
  });
  carryWeights(model, plain);
  return plain;
}

/** Every LoRA layer of `model` with its dotted path. */
export function loraLayersOf(model: LayersModel): { path: string; layer: LoraLayer }[] {
  return walkLayers(model).flatMap(({ path, layer }) => (layer instanceof LoraLayer ? [{ path, layer }] : []));
}

/**
 * Initialises adapter `name` in the LoRA layers at `targets` as `config.initLoraWeights` says; with a
 * seed, the layer at position i among the model's LoRA layers uses seed + i.
 */
export function initAdapter(
  model: LayersModel,
  name: string,
  config: LoraConfig,
  targets: ReadonlySet<string>,
  seed?: number,
): void {
  loraLayersOf(model).forEach(({ path, layer }, i) => {
    if (targets.has(path)) layer.initAdapter(name, config.initLoraWeights, seed === undefined ? undefined : seed + i);
  });
}

/**
 * PEFT's `_mark_only_adapters_as_trainable`: freezes everything but the LoRA weights, the biases `bias`
 * names ('all': every bias; 'lora_only': those of adapted layers) and the `modulesToSave` layers.
 */
export function markTrainable(model: LayersModel, config: LoraConfig): void {
  const saved = config.modulesToSave ?? [];
  for (const { path, layer } of walkLayers(model)) {
    if (layer instanceof LoraLayer) {
      layer.trainBias = config.bias === 'all' || (config.bias === 'lora_only' && layer.activeAdapters.length > 0);
      continue;
    }
    const keep = saved.length > 0 && matchesSelector(saved, path);
    setWeightsTrainable(layer as Layer, (w) => !isBuffer(w) && (keep || (config.bias === 'all' && isBias(w))));
  }
}

/** PEFT's `get_nb_trainable_parameters`. */
export interface ParameterCount {
  /** Parameters that receive gradients. */
  trainable: number;
  /** All parameters (including frozen base, every adapter, and modules_to_save originals). */
  total: number;
  /** 100 · trainable / total. */
  percent: number;
}

/** PEFT's `get_nb_trainable_parameters` for `model` (buffers excluded), plus `frozenCopies` kept outside it. */
export function countParameters(model: LayersModel, frozenCopies: number): ParameterCount {
  const trainableSet = new Set(model.trainableWeights);
  let trainable = 0;
  let total = frozenCopies;
  for (const w of model.weights) {
    if (isBuffer(w)) continue;
    const n = tf.util.sizeFromShape(w.shape as number[]);
    total += n;
    if (trainableSet.has(w)) trainable += n;
  }
  return { trainable, total, percent: total === 0 ? 0 : (100 * trainable) / total };
}
