import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { alphaFor, loraConfig, rankFor, type LoraConfig, type LoraConfigInput } from './config.js';
import { AdapterStateError, LoraConfigError } from './errors/index.js';
import { requireLayerKind, type Layer } from './layer-kind.js';
import { LoraLayer } from './lora-layer.js';
import { checkAdapterName, encodeLoraState, type LoraAdapterSpec } from './lora-layer-state.js';
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
import { ModulesToSave } from './modules-to-save.js';
import { matchesSelector, selectTargets } from './target-match.js';
import { planWeightedAdapter, writeCombinedFactors, type Combination } from './weighted-adapter.js';
import { isPeftAdapterInput, peftAdapter, type PeftAdapter, type PeftAdapterInput } from './peft/adapter.js';
import { loadPeftAdapter, type PeftAdapterSource } from './peft/load.js';
import type { PeftLoadOptions } from './peft/module-map.js';
import { applyPeftPlan, planPeftLoad, type PeftSource } from './peft/plan.js';

/** Options of {@link applyLora} and {@link LoraModel.addAdapter} (module mapping applies to loaded adapters). */
export interface ApplyLoraOptions extends PeftLoadOptions {
  /** Adapter name (PEFT's default is `'default'`). */
  adapterName?: string;
  /** Seed for the random initialisation of A (per layer: seed + layer index). */
  seed?: number;
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

function specFor(config: LoraConfig, path: string): LoraAdapterSpec {
  return {
    r: rankFor(config, path),
    loraAlpha: alphaFor(config, path),
    loraDropout: config.loraDropout,
    useRslora: config.useRslora,
    useDora: config.useDora,
  };
}

function wrapEntry(entry: LayerEntry, adapterName: string, spec: LoraAdapterSpec): LayerEntry {
  const inner = entry.config;
  const config: tf.serialization.ConfigDict = {
    name: inner['name'],
    trainable: true,
    layer: { className: entry.className, config: inner },
    lora: encodeLoraState({ adapters: { [adapterName]: spec }, activeAdapters: [adapterName] }),
  };
  if (inner['batchInputShape']) config['batchInputShape'] = inner['batchInputShape'];
  if (inner['dtype']) config['dtype'] = inner['dtype'];
  return { ...entry, className: 'LoraLayer', config };
}

/**
 * A model with LoRA adapters (PEFT's `LoraModel`/`PeftModel`). Build one with {@link applyLora}.
 * `model` is an ordinary `tf.LayersModel` ready for `compile`/`fit`/`predict`/`save`; only the LoRA
 * weights (and biases / modules per the config) are trainable.
 */
export class LoraModel {
  private current: LayersModel;
  private readonly configs = new Map<string, LoraConfig>();
  private active: string[];
  private disabled = false;
  private readonly saved: ModulesToSave;
  private readonly sources = new Map<string, PeftSource>();

  private constructor(model: LayersModel, adapterName: string, config: LoraConfig) {
    this.current = model;
    this.configs.set(adapterName, config);
    this.active = [adapterName];
    this.saved = new ModulesToSave();
  }

  /** @internal Use {@link applyLora}. */
  static create(base: LayersModel, input: LoraConfig | LoraConfigInput, options: ApplyLoraOptions = {}): LoraModel {
    const name = options.adapterName ?? 'default';
    checkAdapterName(name);
    const config = loraConfig(input as LoraConfigInput);
    if (walkLayers(base).some(({ layer }) => layer instanceof LoraLayer)) {
      throw new AdapterStateError(
        `This model already contains LoRA layers. Use loraModel.addAdapter() to add another adapter, or apply LoRA to the base model.`,
      );
    }
    const targets = LoraModel.targetsFor(base, config);
    const model = rebuildModel(base, (entry, path) =>
      targets.has(path) ? wrapEntry(entry, name, specFor(config, path)) : entry,
    );
    carryWeights(base, model);
    const lm = new LoraModel(model, name, config);
    lm.initAdapterIn(name, targets, options.seed);
    lm.saved.capture(lm.current, name, config.modulesToSave);
    lm.applyTrainability();
    return lm;
  }

  private static targetsFor(model: LayersModel, config: LoraConfig): Set<string> {
    const targets = selectTargets(config, layerInfos(model));
    for (const t of targets) requireLayerKind(t.className, t.path);
    return new Set(targets.map((t) => t.path));
  }

  /** The LayersModel with LoRA layers; re-read it after {@link addAdapter} (it may be rebuilt). */
  get model(): LayersModel {
    return this.current;
  }

  /** Adapter names, in the order they were added. */
  get adapterNames(): string[] {
    return [...this.configs.keys()];
  }

  /** The active adapters (PEFT's `active_adapters`). */
  get activeAdapters(): string[] {
    return [...this.active];
  }

  /** The config of an adapter (PEFT's `peft_config[name]`). */
  peftConfig(name = this.active[0]): LoraConfig {
    const c = this.configs.get(name);
    if (!c)
      throw new AdapterStateError(`No adapter '${name}'; adapters: ${this.adapterNames.join(', ')}.`, {
        adapter: name,
      });
    return c;
  }

  /** Every LoRA layer with its dotted path. */
  loraLayers(): { path: string; layer: LoraLayer }[] {
    return walkLayers(this.current).flatMap(({ path, layer }) => (layer instanceof LoraLayer ? [{ path, layer }] : []));
  }

  /** Trainable and total parameter counts, as PEFT's `get_nb_trainable_parameters` counts them. */
  trainableParameters(): ParameterCount {
    const trainableSet = new Set(this.current.trainableWeights);
    let trainable = 0;
    let total = this.saved.frozenCopySize();
    for (const w of this.current.weights) {
      if (isBuffer(w)) continue;
      const n = tf.util.sizeFromShape(w.shape as number[]);
      total += n;
      if (trainableSet.has(w)) trainable += n;
    }
    return { trainable, total, percent: total === 0 ? 0 : (100 * trainable) / total };
  }

  /**
   * Adds a named adapter (inactive, as in PEFT; call {@link setAdapter}). When its targets include layers
   * no other adapter wraps, `model` is rebuilt with the weights carried over: re-read it and compile again.
   */
  addAdapter(name: string, input: LoraConfig | LoraConfigInput, options: { seed?: number } = {}): void {
    checkAdapterName(name);
    if (this.configs.has(name))
      throw new AdapterStateError(`Adapter '${name}' exists already. Delete it first or pick another name.`, {
        adapter: name,
      });
    const config = loraConfig(input as LoraConfigInput);
    if (this.loraLayers().some(({ layer }) => layer.merged.length > 0)) {
      throw new AdapterStateError(`Unmerge before adding an adapter.`, { adapter: name });
    }
    const targets = LoraModel.targetsFor(this.current, config);
    const wrapped = new Map(this.loraLayers().map((l) => [l.path, l.layer]));
    const fresh = [...targets].filter((p) => !wrapped.has(p));
    if (fresh.length > 0) {
      const rebuilt = rebuildModel(this.current, (entry, path) =>
        fresh.includes(path) ? wrapEntry(entry, name, specFor(config, path)) : entry,
      );
      carryWeights(this.current, rebuilt);
      this.current.dispose();
      this.current = rebuilt;
    }
    const current = new Map(this.loraLayers().map((l) => [l.path, l.layer]));
    for (const path of targets) if (!fresh.includes(path)) current.get(path)?.addAdapter(name, specFor(config, path));
    this.configs.set(name, config);
    this.initAdapterIn(name, targets, options.seed);
    this.saved.capture(this.current, name, config.modulesToSave);
    this.setAdapter(this.active);
  }

  /** Makes these adapters active (PEFT's `set_adapter`); only they train. */
  setAdapter(names: string | string[]): void {
    const list = typeof names === 'string' ? [names] : [...names];
    list.forEach((n) => this.peftConfig(n));
    if (this.loraLayers().some(({ layer }) => layer.merged.length > 0)) {
      throw new AdapterStateError(`Unmerge before switching adapters (merged layers would keep the old update).`);
    }
    this.saved.activate(this.current, this.disabled ? null : list[0]);
    this.active = list;
    for (const { layer } of this.loraLayers())
      layer.setActiveAdapters(list.filter((n) => layer.adapterNames.includes(n)));
    this.applyTrainability();
  }

  /** Deletes an adapter and its weights (PEFT's `delete_adapter`); it must not be the only one. */
  deleteAdapter(name: string): void {
    this.peftConfig(name);
    if (this.configs.size === 1)
      throw new AdapterStateError(
        `Cannot delete '${name}': it is the only adapter. Use mergeAndUnload() or unload().`,
        { adapter: name },
      );
    for (const { layer } of this.loraLayers()) if (layer.adapterNames.includes(name)) layer.deleteAdapter(name);
    this.configs.delete(name);
    this.sources.delete(name);
    this.saved.drop(this.current, name);
    const remaining = this.active.filter((n) => n !== name);
    this.setAdapter(remaining.length > 0 ? remaining : [this.adapterNames[0]]);
  }

  /** Base-model behaviour: LoRA branches off, modules_to_save back to their originals. Unmerges first. */
  disableAdapters(): void {
    this.unmerge();
    this.disabled = true;
    for (const { layer } of this.loraLayers()) layer.disabled = true;
    this.saved.activate(this.current, null);
  }

  /** Undoes {@link disableAdapters}. */
  enableAdapters(): void {
    this.disabled = false;
    for (const { layer } of this.loraLayers()) layer.disabled = false;
    this.saved.activate(this.current, this.active[0]);
  }

  /** Runs `fn` with adapters disabled and re-enables them afterwards (after the promise settles, if `fn` returns one), even if it throws. */
  withAdaptersDisabled<T>(fn: () => T): T {
    this.disableAdapters();
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.enableAdapters();
      throw e;
    }
    if (result instanceof Promise) return result.finally(() => this.enableAdapters()) as T;
    this.enableAdapters();
    return result;
  }

  /** Merges the active adapters into the base weights (faster inference; unmerge restores bit-exactly). */
  merge(options: { safeMerge?: boolean } = {}): void {
    if (this.disabled) throw new AdapterStateError(`Adapters are disabled; enableAdapters() before merging.`);
    const layers = this.loraLayers().map((l) => l.layer);
    const done: LoraLayer[] = [];
    try {
      for (const layer of layers) {
        layer.merge({ adapterNames: layer.activeAdapters, safeMerge: options.safeMerge });
        done.push(layer);
      }
    } catch (e) {
      done.forEach((l) => l.unmerge());
      throw e;
    }
  }

  /** Restores every merged layer's base weights. */
  unmerge(): void {
    for (const { layer } of this.loraLayers()) layer.unmerge();
  }

  /**
   * PEFT's `merge_and_unload`: a new plain LayersModel with the active adapters merged and only stock
   * layers (loadable by tfjs without this package). This LoraModel is left as it was.
   */
  mergeAndUnload(options: { safeMerge?: boolean } = {}): LayersModel {
    this.merge(options);
    try {
      return this.unwrapped();
    } finally {
      this.unmerge();
    }
  }

  /** PEFT's `unload`: a new plain LayersModel with the base weights, LoRA removed without merging. */
  unload(): LayersModel {
    return this.withAdaptersDisabled(() => this.unwrapped());
  }

  /**
   * PEFT's `add_weighted_adapter`: a new adapter combining existing ones (see {@link combineFactors}
   * for the exact math of 'linear', 'cat' and 'svd'). The new adapter has loraAlpha = r (scaling 1) and
   * is not activated.
   */
  addWeightedAdapter(
    adapters: string[],
    weights: number[],
    name: string,
    combination: Combination = 'svd',
    options: { svdRank?: number } = {},
  ): void {
    checkAdapterName(name);
    const layers = this.loraLayers();
    const { rank, config } = planWeightedAdapter(
      layers,
      adapters,
      weights,
      combination,
      (a) => this.peftConfig(a),
      options.svdRank,
    );
    this.addAdapter(name, config);
    writeCombinedFactors(
      this.loraLayers().map((l) => l.layer),
      adapters,
      weights,
      combination,
      rank,
      name,
    );
  }

  /**
   * Loads a PEFT adapter (see `loadPeftAdapter` for the sources) as another named adapter, inactive as in
   * PEFT's `load_adapter`. Every shape is checked first: on a mismatch nothing changes and the
   * ShapeMismatchError names the layer and both shapes. Returns where each module went.
   */
  async loadAdapter(
    source: PeftAdapterSource,
    name: string,
    options: PeftLoadOptions & { seed?: number } = {},
  ): Promise<PeftSource> {
    checkAdapterName(name);
    if (this.configs.has(name))
      throw new AdapterStateError(`Adapter '${name}' exists already. Delete it first or pick another name.`, {
        adapter: name,
      });
    const owned = !isPeftAdapterInput(source);
    const adapter = owned ? await loadPeftAdapter(source) : peftAdapter(source as PeftAdapterInput);
    try {
      const plan = planPeftLoad(this.current, adapter, options);
      this.addAdapter(name, plan.config, options);
      applyPeftPlan(this, name, plan);
      return plan.source;
    } finally {
      if (owned) adapter.dispose();
    }
  }

  /** How adapter `name` was loaded from PEFT files (its config as read, PEFT module paths, skipped modules); undefined when made here. */
  peftSource(name: string): PeftSource | undefined {
    this.peftConfig(name);
    return this.sources.get(name);
  }

  /** @internal Records where a loaded adapter came from (used by savePeftAdapter). */
  setPeftSource(name: string, source: PeftSource): void {
    this.sources.set(name, source);
  }

  /** The paths of the modules_to_save layers of adapter `name`. */
  savedModulePaths(name: string): string[] {
    const selector = this.peftConfig(name).modulesToSave;
    if (!selector || selector.length === 0) return [];
    return walkLayers(this.current)
      .filter(({ path, layer }) => !(layer instanceof LoraLayer) && matchesSelector(selector, path))
      .map((l) => l.path);
  }

  /**
   * Copies of a modules_to_save layer's weights as adapter `name` has them (the caller disposes them).
   * With `replace`, that adapter's copy is set to `replace` first (the tensors are copied).
   */
  savedModuleWeights(name: string, path: string, replace?: tf.Tensor[]): tf.Tensor[] {
    if (!this.savedModulePaths(name).includes(path)) {
      throw new AdapterStateError(
        `Layer '${path}' is not in the modules_to_save of adapter '${name}' (${this.savedModulePaths(name).join(', ') || 'none'}).`,
        { adapter: name },
      );
    }
    const layer = walkLayers(this.current).find((l) => l.path === path)!.layer;
    const live = this.disabled ? null : this.active[0]!;
    if (name !== live) this.saved.activate(this.current, name);
    try {
      if (replace) layer.setWeights(replace);
      return layer.getWeights().map((t) => tf.clone(t));
    } finally {
      if (name !== live) this.saved.activate(this.current, live);
    }
  }

  /** Disposes the model's weights and every kept copy. */
  dispose(): void {
    this.saved.dispose();
    this.current.dispose();
  }

  private unwrapped(): LayersModel {
    const plain = rebuildModel(this.current, (entry) => {
      if (entry.className !== 'LoraLayer') return entry;
      const inner = entry.config['layer'] as unknown as LayerEntry;
      return { ...entry, className: inner.className, config: { ...inner.config, name: entry.config['name'] } };
    });
    carryWeights(this.current, plain);
    return plain;
  }

  private initAdapterIn(name: string, targets: Set<string>, seed?: number): void {
    const config = this.peftConfig(name);
    let i = 0;
    for (const { path, layer } of this.loraLayers()) {
      if (targets.has(path)) layer.initAdapter(name, config.initLoraWeights, seed === undefined ? undefined : seed + i);
      i++;
    }
  }

  /** Freezes everything but LoRA weights, biases per `bias`, and modules_to_save (PEFT's rules). */
  private applyTrainability(): void {
    const config = this.peftConfig(this.active[0]);
    const saved = config.modulesToSave ?? [];
    for (const { path, layer } of walkLayers(this.current)) {
      if (layer instanceof LoraLayer) {
        layer.trainBias = config.bias === 'all' || (config.bias === 'lora_only' && layer.activeAdapters.length > 0);
        continue;
      }
      const keep = saved.length > 0 && matchesSelector(saved, path);
      setWeightsTrainable(layer as Layer, (w) => !isBuffer(w) && (keep || (config.bias === 'all' && isBias(w))));
    }
  }
}

/**
 * Injects LoRA into a Sequential or functional model (PEFT's `get_peft_model`): every layer the config
 * targets is wrapped in a {@link LoraLayer}, everything else is frozen except biases per `bias` and
 * `modulesToSave`. The base model is not modified; the returned `model` shares no variables with it.
 *
 * Given a loaded PEFT adapter (`loadPeftAdapter`) instead of a config, this is PEFT's
 * `PeftModel.from_pretrained`: modules are mapped to layers (`moduleMap`, `strict`), every shape is checked
 * before anything is built (ShapeMismatchError names the layer and both shapes), then the adapter's
 * tensors are copied in, converted to tfjs layouts. The adapter can be disposed afterwards.
 */
export function applyLora(
  model: LayersModel,
  config: LoraConfig | LoraConfigInput | PeftAdapter | PeftAdapterInput,
  options: ApplyLoraOptions = {},
): LoraModel {
  if (!model || !Array.isArray((model as { layers?: unknown }).layers)) {
    throw new LoraConfigError(`applyLora expects a tf.LayersModel (Sequential or functional); found ${typeof model}.`, {
      field: 'model',
    });
  }
  if (!isPeftAdapterInput(config)) return LoraModel.create(model, config, options);
  const plan = planPeftLoad(model, peftAdapter(config), options);
  const lm = LoraModel.create(model, plan.config, options);
  try {
    applyPeftPlan(lm, options.adapterName ?? 'default', plan);
  } catch (e) {
    lm.dispose();
    throw e;
  }
  return lm;
}
