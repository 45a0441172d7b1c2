import * as tf from '@tensorflow/tfjs-core';
import { layers, LayerVariable } from '@tensorflow/tfjs-layers';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import type { Shape } from '@tensorflow/tfjs-layers';
import type { InitLoraWeights } from './config.js';
import { scalingFor } from './config.js';
import { AdapterStateError, LoraConfigError, LoraError } from './errors/index.js';
import { requireLayerAdapter, type Layer, type LayerAdapter } from './layer-adapter.js';
import { doraMergedWeight, scale, stopGradient } from './math.js';
import {
  checkAdapterName,
  decodeState,
  encodeLoraState,
  type AdapterWeights,
  type LoraAdapterSpec,
  type LoraLayerArgs,
  type LoraLayerState,
} from './lora-layer-state.js';

export {
  checkAdapterName,
  encodeLoraState,
  type AdapterWeights,
  type LoraAdapterSpec,
  type LoraLayerArgs,
  type LoraLayerState,
};

/**
 * A LoRA wrapper around one tfjs layer (a `Wrapper`-style layer): `y = act(base(x) + Σ s·B(A(dropout(x))))`
 * over the active adapters, with DoRA, merge/unmerge and several named adapters. The layer-kind math comes
 * from the registered {@link LayerAdapter} for the wrapped class. Serialisable with `model.save`.
 */
export class LoraLayer extends layers.Layer {
  /** @nocollapse */
  static className = 'LoraLayer';
  /** The wrapped base layer. */
  readonly layer: Layer;
  /** The layer-kind math. */
  readonly kind: LayerAdapter;
  private readonly specs: Record<string, LoraAdapterSpec>;
  private readonly vars = new Map<string, AdapterWeights>();
  private active: string[];
  private mergedNames: string[];
  private originalKernel: tf.Tensor | null = null;
  /** Base-only forward when true. */
  disabled: boolean;
  private trainBiasFlag: boolean;

  constructor(args: LoraLayerArgs) {
    super({ ...args, name: args.name ?? args.layer.name });
    this.layer = args.layer;
    this.kind = requireLayerAdapter(args.layer.getClassName(), this.name);
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
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const training = kwargs['training'] === true;
      const live = this.disabled ? [] : this.active.filter((a) => !this.mergedNames.includes(a));
      const { kind, layer } = this;
      if (live.length === 1) {
        const w = this.weightsOf(live[0]);
        // Adapter fast paths (fused kernels, hand-written gradients); null from a hook means "compose".
        const dropping = training && w.spec.loraDropout > 0;
        let y: tf.Tensor | null = null;
        if (w.magnitude)
          y = dropping
            ? null
            : (kind.doraForward?.(layer, x, w.loraA.read(), w.loraB.read(), w.magnitude.read(), w.scaling) ?? null);
        else if (!dropping) y = kind.fusedForward?.(layer, x, w.loraA.read(), w.loraB.read(), w.scaling) ?? null;
        else if (kind.inputDropout && kind.dropoutForward)
          y = kind.dropoutForward(
            layer,
            x,
            tf.dropout(x, w.spec.loraDropout),
            w.loraA.read(),
            w.loraB.read(),
            w.scaling,
          );
        if (y) return kind.activate(layer, y);
      }
      const base = kind.baseForward(layer, x);
      let y = base;
      for (const name of live) {
        const w = this.weightsOf(name);
        const drop = training && w.spec.loraDropout > 0 && kind.inputDropout;
        const xd = drop ? tf.dropout(x, w.spec.loraDropout) : x;
        const low = kind.loraForward(layer, xd, w.loraA.read(), w.loraB.read());
        if (!w.magnitude) {
          y = tf.add(y, scale(low, w.scaling));
          continue;
        }
        // DoRA (PEFT semantics): the weight norm is detached; the base term is rescaled by m/‖W+sΔW‖.
        const kernel = kind.kernel(layer).read();
        const delta = scale(kind.deltaWeight(layer, w.loraA.read(), w.loraB.read()), w.scaling);
        const norm = stopGradient(this.weightNorm(tf.add(kernel, delta)));
        const magScale = tf.div(w.magnitude.read(), norm);
        const bias = kind.bias(layer);
        const baseIn = drop ? kind.baseForward(layer, xd) : base;
        const baseNoBias = bias ? tf.sub(baseIn, bias.read()) : baseIn;
        y = tf.add(y, tf.add(tf.mul(tf.sub(magScale, 1), baseNoBias), tf.mul(magScale, scale(low, w.scaling))));
      }
      return kind.activate(layer, y);
    });
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

  /** Initialises an adapter's factors as `initLoraWeights` prescribes (PiSSA/OLoRA also rewrite W). */
  initAdapter(name: string, mode: InitLoraWeights, seed?: number): void {
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
      if (w.magnitude) {
        const delta = scale(this.kind.deltaWeight(this.layer, init.loraA, init.loraB), w.scaling);
        w.magnitude.write(this.weightNorm(tf.add(this.kind.kernel(this.layer).read(), delta)));
      }
    });
  }

  /** Removes an adapter and disposes its variables. */
  deleteAdapter(name: string): void {
    const w = this.weightsOf(name);
    if (this.mergedNames.includes(name)) {
      throw new AdapterStateError(`Layer '${this.name}': adapter '${name}' is merged; unmerge before deleting it.`, {
        adapter: name,
      });
    }
    for (const v of [w.loraA, w.loraB, w.magnitude]) v?.dispose();
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
   * that {@link unmerge} restores it bit-exactly. `safeMerge` checks the result for NaN/Inf first.
   */
  merge(options: { adapterNames?: string[]; safeMerge?: boolean } = {}): void {
    const names = (options.adapterNames ?? this.active).filter((n) => !this.mergedNames.includes(n));
    if (names.length === 0) return;
    const kernel = this.kind.kernel(this.layer);
    const next = tf.tidy(() => {
      let weight = kernel.read();
      for (const name of names) {
        const w = this.weightsOf(name);
        const delta = scale(this.kind.deltaWeight(this.layer, w.loraA.read(), w.loraB.read()), w.scaling);
        weight = w.magnitude
          ? doraMergedWeight(weight, delta, w.magnitude.read(), (t) => this.weightNorm(t))
          : tf.add(weight, delta);
      }
      return weight;
    });
    if (options.safeMerge && !tf.tidy(() => tf.all(tf.isFinite(next)).dataSync()[0])) {
      next.dispose();
      throw new AdapterStateError(
        `Merging ${names.join(', ')} into '${this.name}' gives NaN or Inf weights; the layer is unchanged. Check the adapter's values.`,
      );
    }
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
      const restored = tf.tidy(() => {
        let weight = kernel.read();
        for (const name of [...this.mergedNames].reverse()) {
          const w = this.weightsOf(name);
          if (w.magnitude) {
            throw new AdapterStateError(
              `Layer '${this.name}': DoRA adapter '${name}' was merged before the model was saved and cannot be unmerged.`,
            );
          }
          weight = tf.sub(weight, scale(this.kind.deltaWeight(this.layer, w.loraA.read(), w.loraB.read()), w.scaling));
        }
        return weight;
      });
      kernel.write(restored);
      restored.dispose();
    }
    this.mergedNames = [];
  }

  /** ΔW of one adapter, scaled, in the kernel's shape (PEFT's `get_delta_weight`). */
  deltaWeight(name: string): tf.Tensor {
    const w = this.weightsOf(name);
    return tf.tidy(() => scale(this.kind.deltaWeight(this.layer, w.loraA.read(), w.loraB.read()), w.scaling));
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
    const inner = config['layer'] as { className: string; config: tf.serialization.ConfigDict };
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[inner.className];
    if (!entry) {
      throw new LoraError(
        `Cannot rebuild the layer inside LoraLayer '${String(config['name'])}': class '${inner.className}' is not registered. Import the package that defines it.`,
      );
    }
    const [innerCls, fromConfig] = entry;
    const layer = fromConfig(innerCls, { ...inner.config }) as unknown as Layer;
    const rest = { ...config };
    delete rest['layer'];
    delete rest['lora'];
    const state = typeof config['lora'] === 'string' ? decodeState(config['lora']) : {};
    return new cls({ ...rest, ...state, layer } as unknown as tf.serialization.ConfigDict);
  }

  override dispose(): ReturnType<Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      this.originalKernel?.dispose();
      this.originalKernel = null;
    }
    return result;
  }

  private weightNorm(weight: tf.Tensor): tf.Tensor {
    if (!this.kind.weightNorm) {
      throw new LoraConfigError(
        `DoRA is not supported for ${this.layer.getClassName()} layers ('${this.name}'). Set useDora: false for it.`,
        { field: 'useDora' },
      );
    }
    return this.kind.weightNorm(this.layer, weight);
  }

  private adapterVariables(): LayerVariable[] {
    return [...this.vars.values()].flatMap((w) => (w.magnitude ? [w.loraA, w.loraB, w.magnitude] : [w.loraA, w.loraB]));
  }

  private createVariables(name: string, spec: LoraAdapterSpec): void {
    const shapes = this.kind.factorShapes(this.layer, spec.r);
    const make = (local: string, shape: number[]) => this.makeVariable(`${local}.${name}`, shape);
    const weights: AdapterWeights = {
      spec,
      scaling: scalingFor(spec.r, spec.loraAlpha, spec.useRslora),
      loraA: make('lora_A', shapes.loraA),
      loraB: make('lora_B', shapes.loraB),
    };
    if (spec.useDora) {
      if (!this.kind.weightNorm) tf.tidy(() => this.weightNorm(tf.scalar(0))); // throws; tidy frees the scalar
      const out = this.kind.kernel(this.layer).shape.at(-1) as number;
      weights.magnitude = this.makeVariable(`lora_magnitude_vector.${name}`, [out]);
    }
    this.vars.set(name, weights);
  }

  /** A variable named `<layer>/<local>` whether or not a name scope is open (build runs inside one). */
  private makeVariable(local: string, shape: number[]): LayerVariable {
    const want = `${this.name}/${local}`;
    const init = tf.zeros(shape);
    try {
      const v = new LayerVariable(init, 'float32', local, true);
      if (v.originalName === want || v.originalName.endsWith(`/${want}`)) return v;
      v.dispose();
      return new LayerVariable(init, 'float32', want, true);
    } finally {
      init.dispose();
    }
  }

  private refreshTrainable(): void {
    const bias = this.layer.built ? this.kind.bias(this.layer) : null;
    for (const w of this.layer.weights) w.trainable = w === bias ? this.trainBiasFlag : false;
    for (const [name, w] of this.vars) {
      const on = this.active.includes(name);
      for (const v of [w.loraA, w.loraB, w.magnitude]) if (v) v.trainable = on;
    }
  }
}

tf.serialization.registerClass(LoraLayer);
