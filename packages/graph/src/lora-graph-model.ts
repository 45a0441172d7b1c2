// LoraGraphModel: LoRA adapters on a tf.GraphModel. Adapted nodes run as the op of custom-op.ts (the
// frozen op as tfjs-converter runs it, fused epilogue included, plus the low-rank branch of the running
// model's active adapters); every other node runs on tfjs's own kernels. Quantised and float16 weights
// are dequantised by tfjs at load, so LoRA updates the dequantised frozen weight.
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import {
  AdapterStateError,
  checkAdapterName,
  loraConfig,
  type LoraConfig,
  type LoraConfigInput,
  type ParameterCount,
  type PeftExportable,
  type TrainableModel,
} from '@tfjs-lora/core';
import { withCleanup } from '@tfjs-lora/core/math';
import { factorVariables, initAdapterFactors, type GraphFactors } from './adapter-factors.js';
import { graphTargets, selectGraphTargets, type GraphTarget } from './targets.js';
import { graphView, refuseAsyncGraph } from './graph-nodes.js';
import { mergedWeights, namedInputs, refuseUnsupported, restoreWeights, swapWeights, unloadedModel } from './merge.js';
import { peftTensorsOf } from './peft-export.js';
import { hookNode, unhookNode, withUpdates, type LoraForm, type NodeUpdate, type UpdateSource } from './custom-op.js';

/** Inputs as GraphModel.execute takes them. */
export type GraphInputs = tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;

let instances = 0;

/**
 * A tf.GraphModel with LoRA adapters, the counterpart of core's `LoraModel` (build it with `applyLora`
 * after `import '@tfjs-lora/graph'`). Only the LoRA factors train; the graph's own weights stay frozen.
 * The GraphModel is not copied: this object owns the factors, the caller keeps owning the GraphModel.
 */
export class LoraGraphModel implements TrainableModel, PeftExportable, UpdateSource {
  /** The wrapped GraphModel (its weights are the base weights unless {@link merge} is in effect). */
  readonly model: GraphModel;
  private readonly candidates: ReadonlyMap<string, GraphTarget>;
  private readonly pathOfNode: ReadonlyMap<string, string>;
  private readonly adapters = new Map<string, { config: LoraConfig; factors: Map<string, GraphFactors> }>();
  private active: string[] = [];
  private disabled = false;
  private training = false;
  /**
   * How adapted nodes compute: 'auto' (default) picks per node the cheaper of PEFT's branch form and one op
   * with W + s·ΔW for a training step; 'branch' and 'merged' force one. Same outputs up to rounding.
   */
  form: LoraForm = 'auto';
  private merged: Map<string, tf.Tensor> | null = null;
  private readonly prefix = `lora_graph_${++instances}`;

  /** @internal Use `applyLora(graphModel, config)`. */
  constructor(model: GraphModel) {
    const view = graphView(model);
    refuseAsyncGraph(view);
    this.model = model;
    this.candidates = new Map(graphTargets(model, view).map((t) => [t.path, t]));
    this.pathOfNode = new Map([...this.candidates.values()].map((t) => [t.node, t.path]));
  }

  /** A name for messages. */
  get name(): string {
    return 'graph-model';
  }

  /** Every node that can take LoRA (MatMul, Conv2D, depthwise, fused or not), by module path. */
  get targetableModules(): GraphTarget[] {
    return [...this.candidates.values()];
  }

  /** The module paths adapter `name` adapts. */
  adaptedModules(name = this.active[0]!): string[] {
    return [...this.adapterState(name).factors.keys()];
  }

  /** Adapter names, in the order they were added. */
  get adapterNames(): string[] {
    return [...this.adapters.keys()];
  }

  /** The active adapters. */
  get activeAdapters(): string[] {
    return [...this.active];
  }

  /** The config of an adapter. */
  peftConfig(name = this.active[0]!): LoraConfig {
    return this.adapterState(name).config;
  }

  /** The factors of adapter `name` by module path. */
  factors(name = this.active[0]!): ReadonlyMap<string, GraphFactors> {
    return this.adapterState(name).factors;
  }

  /** The LoRA factors of the active adapters: the `tf.Variable`s that train. */
  get trainableVariables(): tf.Variable[] {
    return this.active.flatMap((n) => [...this.adapterState(n).factors.values()].flatMap((f) => [f.loraA, f.loraB]));
  }

  /** Trainable (active factors) and total (graph weights + every adapter) parameter counts. */
  trainableParameters(): ParameterCount {
    const size = (ts: tf.Tensor[]): number => ts.reduce((s, t) => s + t.size, 0);
    const base = Object.values(this.model.weights).reduce((s, ts) => s + size(ts), 0);
    const all = [...this.adapters.values()].flatMap((a) => [...a.factors.values()].flatMap((f) => [f.loraA, f.loraB]));
    const trainable = size(this.trainableVariables);
    const total = base + size(all);
    return { trainable, total, percent: total === 0 ? 0 : (100 * trainable) / total };
  }

  /**
   * Runs the graph with LoRA (GraphModel.execute): `inputs` as a tensor, a list in `model.inputNodes`
   * order or a map by input name; `outputs` node names (default: the model's outputs).
   */
  execute(inputs: GraphInputs, outputs?: string | string[]): tf.Tensor | tf.Tensor[] {
    return withUpdates(this, () => tf.tidy(() => this.model.execute(namedInputs(this.model, inputs), outputs)));
  }

  /** Inference on the model's outputs (GraphModel.predict). */
  predict(inputs: GraphInputs): tf.Tensor | tf.Tensor[] {
    return this.execute(inputs);
  }

  /**
   * The forward pass for training (`train`, `createTrainStep`): `training: true` turns on LoRA dropout
   * (PEFT's, on the input of the LoRA branch only; the graph's own dropout nodes are inference no-ops).
   */
  apply(inputs: tf.Tensor | tf.Tensor[], options: { training?: boolean } = {}): tf.Tensor | tf.Tensor[] {
    const before = this.training;
    this.training = options.training === true;
    try {
      return this.execute(inputs);
    } finally {
      this.training = before;
    }
  }

  /** Adds a named adapter (inactive, as in PEFT; call {@link setAdapter}). */
  addAdapter(name: string, input: LoraConfig | LoraConfigInput, options: { seed?: number } = {}): void {
    checkAdapterName(name);
    if (this.adapters.has(name))
      throw new AdapterStateError(`Adapter '${name}' exists already. Delete it first or pick another name.`, {
        adapter: name,
      });
    if (this.merged) throw new AdapterStateError(`Unmerge before adding an adapter.`, { adapter: name });
    const config = loraConfig(input as LoraConfigInput);
    refuseUnsupported(config);
    const targets = selectGraphTargets(config, [...this.candidates.values()]);
    this.attach(name, config, initAdapterFactors(this.model, targets, config, name, this.prefix, options.seed));
  }

  /** @internal Adds adapter `name` with given factors (tfjs layouts, copied), for loaded PEFT adapters. */
  addAdapterFactors(
    name: string,
    config: LoraConfig,
    given: Map<string, { loraA: tf.Tensor; loraB: tf.Tensor; scaling: number }>,
  ): void {
    checkAdapterName(name);
    const factors = new Map<string, GraphFactors>();
    for (const [path, f] of given)
      factors.set(path, factorVariables(this.prefix, name, path, f.loraA.clone(), f.loraB.clone(), f.scaling));
    this.attach(name, config, factors);
  }

  /** @internal UpdateSource: the active adapters' factors for `node` (none while disabled or merged). */
  updatesFor(node: string): NodeUpdate[] {
    if (this.disabled || this.merged) return [];
    const path = this.pathOfNode.get(node);
    if (path === undefined) return [];
    return this.active.flatMap((n) => {
      const a = this.adapters.get(n);
      const f = a?.factors.get(path);
      return f ? [{ ...f, dropout: this.training ? a!.config.loraDropout : 0 }] : [];
    });
  }

  private attach(name: string, config: LoraConfig, factors: Map<string, GraphFactors>): void {
    this.adapters.set(name, { config, factors });
    for (const path of factors.keys()) hookNode(this.model, this.candidates.get(path)!);
    if (this.active.length === 0) this.active = [name];
    this.markTrainable();
  }

  private detach(factors: Map<string, GraphFactors>): void {
    for (const [path, f] of factors) {
      unhookNode(this.model, this.candidates.get(path)!);
      tf.dispose([f.loraA, f.loraB]);
    }
  }

  /** The candidate target at `path`, or undefined. */
  target(path: string): GraphTarget | undefined {
    return this.candidates.get(path);
  }

  /** Makes these adapters active (PEFT's `set_adapter`); only they run and train. */
  setAdapter(names: string | string[]): void {
    const list = typeof names === 'string' ? [names] : [...names];
    list.forEach((n) => this.adapterState(n));
    if (this.merged)
      throw new AdapterStateError(`Unmerge before switching adapters (merged weights would keep the old update).`);
    this.active = list;
    this.markTrainable();
  }

  /** Deletes an adapter and its factors; it must not be the only one. */
  deleteAdapter(name: string): void {
    const state = this.adapterState(name);
    if (this.adapters.size === 1)
      throw new AdapterStateError(
        `Cannot delete '${name}': it is the only adapter. Use mergeAndUnload() or dispose().`,
        {
          adapter: name,
        },
      );
    if (this.merged && this.active.includes(name)) this.unmerge();
    this.detach(state.factors);
    this.adapters.delete(name);
    const remaining = this.active.filter((n) => n !== name);
    this.setAdapter(remaining.length > 0 ? remaining : [this.adapterNames[0]!]);
  }

  /** Base-model behaviour: no LoRA update (unmerges first). */
  disableAdapters(): void {
    this.unmerge();
    this.disabled = true;
  }

  /** Undoes {@link disableAdapters}. */
  enableAdapters(): void {
    this.disabled = false;
  }

  /** Runs `fn` with adapters disabled and re-enables them afterwards (after a returned promise settles), even if it throws. */
  withAdaptersDisabled<T>(fn: () => T): T {
    this.disableAdapters();
    return withCleanup(fn, () => this.enableAdapters());
  }

  /**
   * Folds the active adapters into the GraphModel's weights (W ← W + scaling·ΔW) for faster inference;
   * {@link unmerge} restores the original weight tensors exactly. While merged, the wrapped GraphModel
   * itself computes the adapted outputs.
   */
  merge(): void {
    if (this.disabled) throw new AdapterStateError(`Adapters are disabled; enableAdapters() before merging.`);
    if (this.merged) return;
    this.merged = swapWeights(this.model, this.activeMergedWeights());
  }

  /** Restores the weights {@link merge} replaced. */
  unmerge(): void {
    if (!this.merged) return;
    restoreWeights(this.model, this.merged);
    this.merged = null;
  }

  /** True while {@link merge} is in effect. */
  get isMerged(): boolean {
    return this.merged !== null;
  }

  /**
   * PEFT's `merge_and_unload`: a new plain tf.GraphModel whose weights have the active adapters folded in
   * (float32 where merged; other weights keep their stored dtype and quantisation). It runs and `save()`s
   * with stock tfjs, no custom op. Asynchronous: the merged weights are read to encode the new model.
   * This LoraGraphModel and the wrapped GraphModel are left as they were.
   */
  async mergeAndUnload(): Promise<GraphModel> {
    if (this.disabled) throw new AdapterStateError(`Adapters are disabled; enableAdapters() before merging.`);
    if (this.merged)
      return unloadedModel(this.model, new Map([...this.merged.keys()].map((k) => [k, this.model.weights[k]![0]!])));
    const merged = new Map(Object.entries(this.activeMergedWeights()));
    try {
      return await unloadedModel(this.model, merged);
    } finally {
      tf.dispose([...merged.values()]);
    }
  }

  /** @internal PeftExportable: adapter `name` as PEFT saves it. */
  toPeftTensors(adapterName: string): { config: Record<string, unknown>; tensors: Record<string, tf.Tensor> } {
    if (this.merged) throw new AdapterStateError(`Unmerge before saving an adapter.`, { adapter: adapterName });
    return peftTensorsOf(this.peftConfig(adapterName), this.factors(adapterName), this.candidates);
  }

  /** Disposes the factors (and merged weights: the GraphModel gets its original weights back); not the GraphModel. */
  dispose(): void {
    this.unmerge();
    for (const a of this.adapters.values()) this.detach(a.factors);
    this.adapters.clear();
  }

  private adapterState(name: string): { config: LoraConfig; factors: Map<string, GraphFactors> } {
    const s = this.adapters.get(name);
    if (!s)
      throw new AdapterStateError(`No adapter '${name}'; adapters: ${this.adapterNames.join(', ') || '(none)'}.`, {
        adapter: name,
      });
    return s;
  }

  private markTrainable(): void {
    for (const [name, a] of this.adapters)
      for (const f of a.factors.values()) f.loraA.trainable = f.loraB.trainable = this.active.includes(name);
  }

  /** W + Σ scaling·ΔW for the active adapters, by weight name. */
  private activeMergedWeights(): tf.NamedTensorMap {
    return mergedWeights(
      this.model,
      this.candidates,
      this.active.map((n) => this.adapterState(n).factors),
    );
  }
}
