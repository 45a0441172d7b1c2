// LoraModel, PEFT's LoraModel/PeftModel: the named adapters of one model and what can be done with them
// (add, switch, delete, disable, merge, unload, combine, load from PEFT files). Injection itself is
// inject.ts, PEFT loading peft/plan.ts; apply-lora.ts holds the two ways in, applyLora and applyPeftAdapter.
import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loraConfig, type LoraConfig, type LoraConfigInput } from './config.js';
import { AdapterStateError } from './errors/index.js';
import {
  adapterTargets,
  countParameters,
  initAdapter,
  injectAdapter,
  loraLayersOf,
  markTrainable,
  unwrapLayers,
  wrapLayers,
  type ParameterCount,
} from './inject.js';
import { LoraLayer } from './lora-layer.js';
import { checkAdapterName } from './lora-layer-state.js';
import { isDecomposingInit, type DecomposingInit } from './decomposing-init.js';
import { initAdapterAsync } from './host-init.js';
import { walkLayers } from './model-graph.js';
import { requireSyncRead } from './sync-read.js';
import { ModulesToSave } from './modules-to-save.js';
import { addWeightedAdapter, addWeightedAdapterAsync, type Combination } from './weighted-adapter.js';
import { withPeftAdapter, type PeftAdapterSource } from './peft/load.js';
import type { PeftLoadOptions } from './peft/module-map.js';
import { applyPeftPlan, planPeftLoad, type PeftLoadReport } from './peft/plan.js';
import { withCleanup } from './cleanup.js';

/**
 * A model with LoRA adapters (PEFT's `LoraModel`/`PeftModel`). Build one with `applyLora` (or
 * `applyPeftAdapter` from a loaded PEFT adapter).
 * `model` is an ordinary `tf.LayersModel` ready for `compile`/`fit`/`predict`/`save`; only the LoRA
 * weights (and biases / modules per the config) are trainable.
 */
export class LoraModel {
  private current: LayersModel;
  private readonly configs = new Map<string, LoraConfig>();
  private active: string[];
  private disabled = false;
  private readonly saved: ModulesToSave;
  private readonly reports = new Map<string, PeftLoadReport>();

  private constructor(model: LayersModel, adapterName: string, config: LoraConfig) {
    this.current = model;
    this.configs.set(adapterName, config);
    this.active = [adapterName];
    this.saved = new ModulesToSave();
  }

  /** @internal Use `applyLora` or `applyPeftAdapter`; `config` is already normalised. */
  static create(
    base: LayersModel,
    config: LoraConfig,
    options: { adapterName?: string; seed?: number } = {},
  ): LoraModel {
    const { lm, name, targets } = LoraModel.wrap(base, config, options);
    initAdapter(lm.current, name, config, targets, options.seed);
    return lm.finishCreate(name, config);
  }

  /**
   * @internal {@link create} for PiSSA/OLoRA on any backend: the decomposition reads W asynchronously
   * (`initAdapterAsync`); on failure the wrapped model is disposed.
   */
  static async createAsync(
    base: LayersModel,
    config: LoraConfig,
    options: { adapterName?: string; seed?: number } = {},
  ): Promise<LoraModel> {
    const { lm, name, targets } = LoraModel.wrap(base, config, options);
    try {
      await initAdapterAsync(lm.current, name, config, targets, options.seed);
    } catch (e) {
      lm.dispose();
      throw e;
    }
    return lm.finishCreate(name, config);
  }

  private static wrap(
    base: LayersModel,
    config: LoraConfig,
    options: { adapterName?: string },
  ): { lm: LoraModel; name: string; targets: Set<string> } {
    const name = options.adapterName ?? 'default';
    checkAdapterName(name);
    if (walkLayers(base).some(({ layer }) => layer instanceof LoraLayer)) {
      throw new AdapterStateError(
        `This model already contains LoRA layers. Use loraModel.addAdapter() to add another adapter, or apply LoRA to the base model.`,
      );
    }
    const targets = adapterTargets(base, config);
    return { lm: new LoraModel(wrapLayers(base, targets, name, config), name, config), name, targets };
  }

  private finishCreate(name: string, config: LoraConfig): LoraModel {
    this.saved.capture(this.current, name, config.modulesToSave);
    markTrainable(this.current, config);
    return this;
  }

  /** The LayersModel with LoRA layers; re-read it after {@link addAdapter} (it may be rebuilt). */
  get model(): LayersModel {
    return this.current;
  }

  /** The wrapped model's name (for messages). */
  get name(): string {
    return this.current.name;
  }

  /**
   * The `tf.Variable`s that train: the LoRA factors (and DoRA magnitudes) of the active adapters, plus what
   * the config unfreezes (biases, modulesToSave). The same getter as `LoraGraphModel`'s, so `train`,
   * `createTrainStep` and custom loops take either model.
   */
  get trainableVariables(): tf.Variable[] {
    return this.current.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** The forward pass (`model.apply`); `training: true` turns on LoRA dropout. */
  apply(inputs: tf.Tensor | tf.Tensor[], options: { training?: boolean } = {}): tf.Tensor | tf.Tensor[] {
    return this.current.apply(inputs, options) as tf.Tensor | tf.Tensor[];
  }

  /** Inference (`model.predict`): the outputs for `inputs`, batched as tfjs batches them. */
  predict(inputs: tf.Tensor | tf.Tensor[], options?: { batchSize?: number }): tf.Tensor | tf.Tensor[] {
    return this.current.predict(inputs, options);
  }

  /** The model's regularisation losses (added to the training loss by `train`, as `fit` adds them). */
  calculateLosses(): tf.Scalar[] {
    return this.current.calculateLosses();
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
    return loraLayersOf(this.current);
  }

  /** Trainable and total parameter counts, as PEFT's `get_nb_trainable_parameters` counts them. */
  trainableParameters(): ParameterCount {
    return countParameters(this.current, this.saved.frozenCopySize());
  }

  /**
   * Adds a named adapter (inactive, as in PEFT; call {@link setAdapter}). When its targets include layers
   * no other adapter wraps, `model` is rebuilt with the weights carried over: re-read it and compile again.
   * With `initLoraWeights` 'pissa', 'pissa_niter_K' or 'olora' it returns a promise (the decomposition
   * reads W asynchronously on GPU backends): `await lora.addAdapter(name, config)`.
   */
  addAdapter(
    name: string,
    input: LoraConfigInput & { initLoraWeights: DecomposingInit },
    options?: { seed?: number },
  ): Promise<void>;
  addAdapter(
    name: string,
    input: LoraConfigInput & { initLoraWeights?: boolean | 'gaussian' },
    options?: { seed?: number },
  ): void;
  addAdapter(name: string, input: LoraConfig | LoraConfigInput, options?: { seed?: number }): void | Promise<void>;
  addAdapter(name: string, input: LoraConfig | LoraConfigInput, options: { seed?: number } = {}): void | Promise<void> {
    this.checkNewName(name);
    const config = loraConfig(input as LoraConfigInput);
    if (isDecomposingInit(config.initLoraWeights)) return this.attachAsync(name, config, options.seed);
    this.attach(name, config, options.seed);
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
    markTrainable(this.current, this.peftConfig(this.active[0]));
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
    this.reports.delete(name);
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
    return withCleanup(fn, () => this.enableAdapters());
  }

  /**
   * Merges the active adapters into the base weights (faster inference; unmerge restores bit-exactly).
   * Without `safeMerge` it is synchronous and reads nothing, on every backend. With `safeMerge: true` it
   * checks every merged kernel for NaN/Inf with an asynchronous read and returns a promise: `await
   * lora.merge({ safeMerge: true })`; when a check fails nothing is merged and the promise rejects with an
   * AdapterStateError.
   */
  merge(options?: { safeMerge?: false }): void;
  merge(options: { safeMerge: true }): Promise<void>;
  merge(options?: { safeMerge?: boolean }): void | Promise<void>;
  merge(options: { safeMerge?: boolean } = {}): void | Promise<void> {
    if (options.safeMerge) return this.safeMerge();
    this.checkEnabledForMerge();
    const done: LoraLayer[] = [];
    try {
      for (const { layer } of this.loraLayers()) {
        layer.merge({ adapterNames: layer.activeAdapters });
        done.push(layer);
      }
    } catch (e) {
      done.forEach((l) => l.unmerge());
      throw e;
    }
  }

  /**
   * Restores every merged layer's base weights. Synchronous (it reads nothing); `await lora.unmerge()` is
   * harmless.
   */
  unmerge(): void {
    for (const { layer } of this.loraLayers()) layer.unmerge();
  }

  /**
   * PEFT's `merge_and_unload`: a new plain LayersModel with the active adapters merged and only stock
   * layers (loadable by tfjs without this package). This LoraModel is left as it was. With `safeMerge:
   * true` it returns a promise, as {@link merge} does: `await lora.mergeAndUnload({ safeMerge: true })`.
   */
  mergeAndUnload(options?: { safeMerge?: false }): LayersModel;
  mergeAndUnload(options: { safeMerge: true }): Promise<LayersModel>;
  mergeAndUnload(options?: { safeMerge?: boolean }): LayersModel | Promise<LayersModel>;
  mergeAndUnload(options: { safeMerge?: boolean } = {}): LayersModel | Promise<LayersModel> {
    if (options.safeMerge) return this.safeMerge().then(() => this.unwrapAndUnmerge());
    this.merge();
    return this.unwrapAndUnmerge();
  }

  private unwrapAndUnmerge(): LayersModel {
    try {
      return unwrapLayers(this.current);
    } finally {
      this.unmerge();
    }
  }

  private checkEnabledForMerge(): void {
    if (this.disabled) throw new AdapterStateError(`Adapters are disabled; enableAdapters() before merging.`);
  }

  /** `merge({ safeMerge: true })`: each layer's check reads asynchronously; on a failure every layer merged so far is unmerged. */
  private async safeMerge(): Promise<void> {
    this.checkEnabledForMerge();
    const done: LoraLayer[] = [];
    try {
      for (const { layer } of this.loraLayers()) {
        await layer.mergeAsync({ adapterNames: layer.activeAdapters, safeMerge: true });
        done.push(layer);
      }
    } catch (e) {
      done.forEach((l) => l.unmerge());
      throw e;
    }
  }

  /** PEFT's `unload`: a new plain LayersModel with the base weights, LoRA removed without merging. */
  unload(): LayersModel {
    return this.withAdaptersDisabled(() => unwrapLayers(this.current));
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
    if (combination === 'svd') {
      requireSyncRead(
        "LoraModel.addWeightedAdapter(..., 'svd')",
        "`await lora.addWeightedAdapterAsync(adapters, weights, name, 'svd')`",
      );
    }
    addWeightedAdapter(this, adapters, weights, name, combination, options.svdRank);
  }

  /**
   * {@link LoraModel.addWeightedAdapter} on every backend: the 'svd' combination reads ΣwᵢΔWᵢ with
   * `await data()` and decomposes it on the host, so it also runs on webgpu/webgl, where the synchronous
   * form refuses 'svd'. Same numbers as the synchronous form.
   */
  async addWeightedAdapterAsync(
    adapters: string[],
    weights: number[],
    name: string,
    combination: Combination = 'svd',
    options: { svdRank?: number } = {},
  ): Promise<void> {
    checkAdapterName(name);
    await addWeightedAdapterAsync(this, adapters, weights, name, combination, options.svdRank);
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
  ): Promise<PeftLoadReport> {
    this.checkNewName(name);
    return withPeftAdapter(source, (adapter) => {
      const plan = planPeftLoad(this.current, adapter, options);
      this.attach(name, plan.config, options.seed);
      applyPeftPlan(this, name, plan);
      return plan.report;
    });
  }

  /** How adapter `name` was loaded from PEFT files (its config as read, PEFT module paths, skipped modules); undefined when made here. */
  peftLoadReport(name: string): PeftLoadReport | undefined {
    this.peftConfig(name);
    return this.reports.get(name);
  }

  /** @deprecated use {@link peftLoadReport}; removed in 0.3. */
  peftSource(name: string): PeftLoadReport | undefined {
    return this.peftLoadReport(name);
  }

  /** @internal Records how a loaded adapter was read (used by savePeftAdapter). */
  recordPeftLoad(name: string, report: PeftLoadReport): void {
    this.reports.set(name, report);
  }

  /** The paths of the modules_to_save layers of adapter `name`. */
  savedModulePaths(name: string): string[] {
    return this.saved.paths(this.current, this.peftConfig(name).modulesToSave);
  }

  /**
   * Copies of a modules_to_save layer's weights as adapter `name` has them (the caller disposes them).
   * With `replace`, that adapter's copy is set to `replace` first (the tensors are copied).
   */
  savedModuleWeights(name: string, path: string, replace?: tf.Tensor[]): tf.Tensor[] {
    const paths = this.savedModulePaths(name);
    if (!paths.includes(path)) {
      throw new AdapterStateError(
        `Layer '${path}' is not in the modules_to_save of adapter '${name}' (${paths.join(', ') || 'none'}).`,
        { adapter: name },
      );
    }
    return this.saved.weightsOf(this.current, name, path, this.disabled ? null : this.active[0]!, replace);
  }

  /** Disposes the model's weights and every kept copy. */
  dispose(): void {
    this.saved.dispose();
    this.current.dispose();
  }

  private checkNewName(name: string): void {
    checkAdapterName(name);
    if (this.configs.has(name))
      throw new AdapterStateError(`Adapter '${name}' exists already. Delete it first or pick another name.`, {
        adapter: name,
      });
  }

  /** Adds adapter `name` with a normalised config: wraps the layers no adapter wraps yet, then initialises it. */
  private attach(name: string, config: LoraConfig, seed?: number): void {
    const targets = this.inject(name, config);
    initAdapter(this.current, name, config, targets, seed);
    this.finishAttach(name, config);
  }

  private async attachAsync(name: string, config: LoraConfig, seed?: number): Promise<void> {
    const targets = this.inject(name, config);
    await initAdapterAsync(this.current, name, config, targets, seed);
    this.finishAttach(name, config);
  }

  private inject(name: string, config: LoraConfig): ReadonlySet<string> {
    if (this.loraLayers().some(({ layer }) => layer.merged.length > 0)) {
      throw new AdapterStateError(`Unmerge before adding an adapter.`, { adapter: name });
    }
    const { model, targets } = injectAdapter(this.current, name, config);
    this.current = model;
    this.configs.set(name, config);
    return targets;
  }

  private finishAttach(name: string, config: LoraConfig): void {
    this.saved.capture(this.current, name, config.modulesToSave);
    this.setAdapter(this.active);
  }
}
