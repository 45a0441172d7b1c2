import * as tf from '@tensorflow/tfjs-core';
import { layers, LayerVariable } from '@tensorflow/tfjs-layers';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import type { Shape } from '@tensorflow/tfjs-layers';
import type { InitLoraWeights } from './config.js';
import { AdapterStateError, LoraError } from './errors/index.js';
import './builtin-layer-kinds.js';
import { requireLayerKind, type Layer, type LayerKind } from './layer-kind.js';
import { loraLayerForward, type LiveAdapter } from './lora-forward.js';
import { mixedBatchForward, type MixedBatch } from './mixed-batch.js';
import { mergeAll, scaledDelta, unmergeAll, variantFor, type VariantTarget } from './lora-variant.js';
import { requireSyncRead } from './sync-read.js';
import { isDecomposingInit } from './decomposing-init.js';
import {
  checkAdapterName,
  argsFromConfig,
  encodeLoraState,
  createAdapterWeights,
  variablesOf,
  type AdapterWeights,
  type LoraAdapterSpec,
  type LoraLayerArgs,
  type LoraLayerState,
} from './lora-layer-state.js';

/**
 * A LoRA wrapper around one tfjs layer (a `Wrapper`-style layer): `y = act(base(x) + Σ s·B(A(dropout(x))))`
 * over the active adapters, with DoRA, merge/unmerge and several named adapters. The layer-kind math comes
 * from the registered {@link LayerKind} for the wrapped class. Serialisable with `model.save`.
 */
export class LoraLayer extends layers.Layer {
  /** @nocollapse */
  static className = 'LoraLayer';
  /** The wrapped base layer. */
  readonly layer: Layer;
  /** The layer-kind math. */
  readonly kind: LayerKind;
  private readonly specs: Record<string, LoraAdapterSpec>;
  private readonly vars = new Map<string, AdapterWeights>();
  private active: string[];
  private mergedNames: string[];
  private originalKernel: tf.Tensor | null = null;
  /** Base-only forward when true. */
  disabled: boolean;
  /** One adapter per batch row for the current forward pass (set by `predictWithAdapters`), or null. */
  mixedBatch: MixedBatch | null = null;
  private trainBiasFlag: boolean;

  constructor(args: LoraLayerArgs) {
    super({ ...args, name: args.name ?? args.layer.name });
    this.layer = args.layer;
    this.kind = requireLayerKind(args.layer.getClassName(), this.name);
    this.specs = { ...(args.adapters ?? {}) };
    Object.keys(this.specs).forEach(checkAdapterName);
    this.active = args.activeAdapters ?? Object.keys(this.specs).slice(0, 1);
    this.mergedNames = [...(args.merged ?? [])];
    this.disabled = args.disabled ?? false;
    this.trainBiasFlag = args.trainBias ?? false;
  }

  override build(inputShape: Shape | Shape[]): void {
    if (!this.layer.built) {
      this.layer.build(inputShape);
      this.layer.built = true;
    }
    this.kind.check?.(this.layer);
    for (const [name, spec] of Object.entries(this.specs)) if (!this.vars.has(name)) this.createVariables(name, spec);
    this.refreshTrainable();
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return this.layer.computeOutputShape(inputShape);
  }

  override get trainableWeights(): LayerVariable[] {
    if (!this.trainable) return [];
    return [...this.layer.weights, ...this.adapterVariables()].filter((w) => w.trainable);
  }

  override set trainableWeights(_w: LayerVariable[]) {
    throw new LoraError(`LoraLayer '${this.name}' manages its weights; set adapters, not trainableWeights.`);
  }

  override get nonTrainableWeights(): LayerVariable[] {
    const all = [...this.layer.weights, ...this.adapterVariables()];
    return this.trainable ? all.filter((w) => !w.trainable) : all;
  }

  override set nonTrainableWeights(_w: LayerVariable[]) {
    throw new LoraError(`LoraLayer '${this.name}' manages its weights; set adapters, not nonTrainableWeights.`);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const batch = this.mixedBatch;
    if (batch) return tf.tidy(() => this.kind.activate(this.layer, mixedBatchForward(this, x, batch)));
    const live = this.disabled ? [] : this.active.filter((a) => !this.mergedNames.includes(a));
    return loraLayerForward(
      this.layer,
      this.kind,
      live.map((name) => this.liveAdapter(name)),
      x,
      kwargs['training'] === true,
    );
  }

  /** Whether the base bias trains (PEFT's bias 'all' / 'lora_only'); the kernel never does. */
  get trainBias(): boolean {
    return this.trainBiasFlag;
  }

  set trainBias(on: boolean) {
    this.trainBiasFlag = on;
    this.refreshTrainable();
  }

  /** Names of the adapters in this layer. */
  get adapterNames(): string[] {
    return Object.keys(this.specs);
  }

  /** Names of the active adapters. */
  get activeAdapters(): string[] {
    return [...this.active];
  }

  /** Names of the adapters merged into the base kernel. */
  get merged(): string[] {
    return [...this.mergedNames];
  }

  /** The variables of one adapter; throws naming the adapters that exist. */
  weightsOf(name: string): AdapterWeights {
    const w = this.vars.get(name);
    if (!w) {
      throw new AdapterStateError(
        `Layer '${this.name}' has no adapter '${name}'; it has: ${this.adapterNames.join(', ') || 'none'}.`,
        { adapter: name },
      );
    }
    return w;
  }

  /** Adds an adapter (zero factors; call {@link initAdapter} to initialise). */
  addAdapter(name: string, spec: LoraAdapterSpec): void {
    checkAdapterName(name);
    if (this.specs[name]) {
      throw new AdapterStateError(
        `Layer '${this.name}' already has an adapter '${name}'. Delete it first or pick another name.`,
        { adapter: name },
      );
    }
    this.specs[name] = { ...spec };
    if (this.built) this.createVariables(name, spec);
    if (this.active.length === 0) this.active = [name];
    this.refreshTrainable();
  }

  /**
   * Initialises an adapter's factors as `initLoraWeights` prescribes (PiSSA/OLoRA also rewrite W). PiSSA and
   * OLoRA read W synchronously: on a GPU backend this throws a LoraError; `await applyLora(...)` and
   * `await loraModel.addAdapter(...)` run them there.
   */
  initAdapter(name: string, mode: InitLoraWeights, seed?: number): void {
    if (isDecomposingInit(mode)) {
      requireSyncRead(
        `LoraLayer.initAdapter with initLoraWeights '${String(mode)}'`,
        '`await applyLora(model, config)` or `await loraModel.addAdapter(name, config)`',
      );
    }
    const w = this.weightsOf(name);
    if (this.mergedNames.length > 0) {
      throw new AdapterStateError(`Layer '${this.name}': unmerge before initialising adapter '${name}'.`, {
        adapter: name,
      });
    }
    tf.tidy(() => {
      const init = this.kind.initFactors(this.layer, w.spec.r, w.scaling, mode, seed);
      w.loraA.write(init.loraA);
      w.loraB.write(init.loraB);
      if (init.residualKernel) this.kind.kernel(this.layer).write(init.residualKernel);
    });
    const live = this.liveAdapter(name);
    live.variant.initialise(live);
  }

  /** Removes an adapter and disposes its variables. */
  deleteAdapter(name: string): void {
    const w = this.weightsOf(name);
    if (this.mergedNames.includes(name)) {
      throw new AdapterStateError(`Layer '${this.name}': adapter '${name}' is merged; unmerge before deleting it.`, {
        adapter: name,
      });
    }
    for (const v of variablesOf(w)) v.dispose();
    this.vars.delete(name);
    delete this.specs[name];
    this.active = this.active.filter((a) => a !== name);
  }

  /** Makes these adapters the active ones; only active adapters' variables train. */
  setActiveAdapters(names: string[]): void {
    names.forEach((n) => this.weightsOf(n));
    this.active = [...names];
    this.refreshTrainable();
  }

  /**
   * Adds the active adapters' updates into the base kernel. The first merge keeps an fp32 copy of W so
   * that {@link unmerge} restores it bit-exactly. `safeMerge` checks the result for NaN/Inf first, which
   * reads the kernel synchronously: on a GPU backend (anything but cpu, wasm, tensorflow) it throws a
   * LoraError; use {@link mergeAsync} there.
   */
  merge(options: { adapterNames?: string[]; safeMerge?: boolean } = {}): void {
    if (options.safeMerge)
      requireSyncRead('LoraLayer.merge({safeMerge: true})', '`await layer.mergeAsync({safeMerge: true})`');
    const names = this.unmergedNames(options.adapterNames);
    if (names.length === 0) return;
    const next = this.mergedKernel(names);
    if (options.safeMerge && !tf.tidy(() => tf.all(tf.isFinite(next)).dataSync()[0])) this.refuseMerge(names, next);
    this.commitMerge(names, next);
  }

  /**
   * {@link merge} for every backend: with `safeMerge` the NaN/Inf check reads asynchronously (no GPU
   * stall), and the layer changes only after the check passed.
   */
  async mergeAsync(options: { adapterNames?: string[]; safeMerge?: boolean } = {}): Promise<void> {
    const names = this.unmergedNames(options.adapterNames);
    if (names.length === 0) return;
    const next = this.mergedKernel(names);
    if (options.safeMerge) {
      const finite = tf.tidy(() => tf.all(tf.isFinite(next)));
      let ok: boolean;
      try {
        ok = Boolean((await finite.data())[0]);
      } catch (e) {
        next.dispose();
        throw e;
      } finally {
        finite.dispose();
      }
      if (!ok) this.refuseMerge(names, next);
      // The read gave other code a turn: merge only what is still unmerged.
      if (names.some((n) => this.mergedNames.includes(n))) {
        next.dispose();
        return this.mergeAsync(options);
      }
    }
    this.commitMerge(names, next);
  }

  private unmergedNames(adapterNames: string[] | undefined): string[] {
    return (adapterNames ?? this.active).filter((n) => !this.mergedNames.includes(n));
  }

  private mergedKernel(names: string[]): tf.Tensor {
    const kernel = this.kind.kernel(this.layer);
    return tf.tidy(() =>
      mergeAll(
        kernel.read(),
        names.map((n) => this.liveAdapter(n)),
      ),
    );
  }

  private refuseMerge(names: string[], next: tf.Tensor): never {
    next.dispose();
    throw new AdapterStateError(
      `Merging ${names.join(', ')} into '${this.name}' gives NaN or Inf weights; the layer is unchanged. Check the adapter's values.`,
    );
  }

  private commitMerge(names: string[], next: tf.Tensor): void {
    const kernel = this.kind.kernel(this.layer);
    if (!this.originalKernel) this.originalKernel = tf.keep(tf.clone(kernel.read()));
    kernel.write(next);
    next.dispose();
    this.mergedNames.push(...names);
  }

  /** Restores the base kernel as it was before the first merge (bit-exact when merged in this session). */
  unmerge(): void {
    if (this.mergedNames.length === 0) return;
    const kernel = this.kind.kernel(this.layer);
    if (this.originalKernel) {
      kernel.write(this.originalKernel);
      this.originalKernel.dispose();
      this.originalKernel = null;
    } else {
      // Merged before saving: no original copy survived, so subtract (not bit-exact).
      const restored = tf.tidy(() =>
        unmergeAll(
          kernel.read(),
          this.mergedNames.map((n) => this.liveAdapter(n)),
        ),
      );
      kernel.write(restored);
      restored.dispose();
    }
    this.mergedNames = [];
  }

  /** ΔW of one adapter, scaled, in the kernel's shape (PEFT's `get_delta_weight`). */
  deltaWeight(name: string): tf.Tensor {
    return tf.tidy(() => scaledDelta(this.target(name)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    const state: LoraLayerState = {
      adapters: this.specs,
      activeAdapters: this.active,
      disabled: this.disabled,
      merged: this.mergedNames,
      trainBias: this.trainBias,
    };
    return {
      ...super.getConfig(),
      layer: { className: this.layer.getClassName(), config: this.layer.getConfig() },
      lora: encodeLoraState(state),
    };
  }

  /** @nocollapse */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(argsFromConfig(config) as unknown as tf.serialization.ConfigDict);
  }

  override dispose(): ReturnType<Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      this.originalKernel?.dispose();
      this.originalKernel = null;
    }
    return result;
  }

  private target(name: string): VariantTarget {
    return { adapter: name, where: this.name, layer: this.layer, kind: this.kind, weights: this.weightsOf(name) };
  }

  private liveAdapter(name: string): LiveAdapter {
    const t = this.target(name);
    return { ...t, variant: variantFor(this.kind, t.weights.spec.useDora, this.layer) };
  }

  private adapterVariables(): LayerVariable[] {
    return [...this.vars.values()].flatMap(variablesOf);
  }

  private createVariables(name: string, spec: LoraAdapterSpec): void {
    const variant = variantFor(this.kind, spec.useDora, this.layer);
    this.vars.set(name, createAdapterWeights(this.name, this.layer, this.kind, variant, name, spec));
  }

  private refreshTrainable(): void {
    const bias = this.layer.built ? this.kind.bias(this.layer) : null;
    for (const w of this.layer.weights) w.trainable = w === bias ? this.trainBiasFlag : false;
    for (const [name, w] of this.vars) {
      const on = this.active.includes(name);
      for (const v of variablesOf(w)) v.trainable = on;
    }
  }
}

tf.serialization.registerClass(LoraLayer);
