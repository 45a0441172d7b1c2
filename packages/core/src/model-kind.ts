// Model kinds: how applyLora handles each kind of model. Core handles tf.LayersModel itself (registered
// here, last in the list); plugins register others (@tfjs-lora/graph: tf.GraphModel) with registerModelKind.
import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { LoraConfig } from './config.js';
import { LoraConfigError } from './errors/index.js';
import type { LoraModel } from './lora-model.js';
import type { PeftAdapter } from './peft/adapter.js';
import type { PeftLoadOptions } from './peft/module-map.js';

/** Options of `applyLora` and `applyPeftAdapter` (module mapping applies to loaded adapters). */
export interface ApplyLoraOptions extends PeftLoadOptions {
  /** Adapter name (PEFT's default is `'default'`). */
  adapterName?: string;
  /** Seed for the random initialisation of A (per layer: seed + layer index). */
  seed?: number;
}

/**
 * A kind of model `applyLora` can wrap, with the LoRA model it returns. Core registers `'layers'`
 * (tf.LayersModel → LoraModel); `@tfjs-lora/graph` registers `'graph'` (tf.GraphModel → LoraGraphModel).
 *
 * @typeParam M - the model type the kind accepts.
 * @typeParam L - the LoRA model it returns.
 */
export interface ModelKind<M = unknown, L = unknown> {
  /** Short name, shown in errors (`'layers'`, `'graph'`). */
  readonly name: string;
  /** The package a user imports to get this kind, shown when no kind matches (`'@tfjs-lora/graph'`). */
  readonly packageName?: string;
  /** True when `model` is a model of this kind. */
  matches(model: unknown): boolean;
  /** `applyLora(model, config)` for this kind; `config` is already normalised by `loraConfig`. */
  applyLora(model: M, config: LoraConfig, options: ApplyLoraOptions): L | Promise<L>;
  /** `applyPeftAdapter(model, adapter)` for this kind (PEFT's `PeftModel.from_pretrained`). */
  applyPeftAdapter(model: M, adapter: PeftAdapter, options: ApplyLoraOptions): L;
}

/**
 * The model types `applyLora` accepts and the LoRA model each gives, keyed by model-kind name. Plugins
 * augment it so `applyLora`'s return type follows the model:
 *
 * @example
 * declare module '@tfjs-lora/core' {
 *   interface LoraModelKinds { graph: { model: GraphModel; lora: LoraGraphModel } }
 * }
 */
export interface LoraModelKinds {
  /** Core's own kind. */
  layers: { model: LayersModel; lora: LoraModel };
}

/** The LoRA model `applyLora` returns for a model of type `M`. */
export type LoraModelFor<M> = {
  [K in keyof LoraModelKinds]: M extends LoraModelKinds[K]['model'] ? LoraModelKinds[K]['lora'] : never;
}[keyof LoraModelKinds];

/** Every model type `applyLora` accepts (the `model` of each {@link LoraModelKinds} entry). */
export type LoraTargetModel = LoraModelKinds[keyof LoraModelKinds]['model'];

/**
 * What core's training (`train`, `createTrainStep`, `evaluateLoss`) needs of a model that is not a
 * tf.LayersModel. `LoraModel` and `@tfjs-lora/graph`'s `LoraGraphModel` implement it, so training code
 * does not care which it has.
 */
export interface TrainableModel {
  /** A name for messages. */
  readonly name?: string;
  /** The `tf.Variable`s that train (the LoRA factors, plus what the config unfreezes). */
  readonly trainableVariables: tf.Variable[];
  /** The forward pass; `training: true` turns on dropout (LoRA dropout included). */
  apply(inputs: tf.Tensor | tf.Tensor[], options?: { training?: boolean }): tf.Tensor | tf.Tensor[];
  /** Regularisation losses added to the training loss (as `model.fit` adds them), if any. */
  calculateLosses?(): tf.Scalar[];
}

/** True when `model` has the {@link TrainableModel} members (a tf.LayersModel does not: it has `trainableWeights`). */
export function isTrainableModel(model: unknown): model is TrainableModel {
  const m = model as Partial<TrainableModel> | null;
  return typeof m === 'object' && m !== null && Array.isArray(m.trainableVariables) && typeof m.apply === 'function';
}

/**
 * What `savePeftAdapter` / `encodePeftAdapterAsync` need of a LoRA model that is not a `LoraModel`
 * (`@tfjs-lora/graph`'s `LoraGraphModel` implements it).
 */
export interface PeftExportable {
  /** Every adapter's name. */
  readonly adapterNames: string[];
  /** The active adapters' names (the first is saved when no name is given). */
  readonly activeAdapters: string[];
  /**
   * One adapter as PEFT saves it: the adapter_config.json object (`toPeftJson` of its config) and the
   * tensors of adapter_model.safetensors keyed as PEFT keys them (`base_model.model.<path>.lora_A.weight`),
   * in PyTorch layout. The tensors are new; the caller disposes them. Throws when the adapter is merged.
   */
  toPeftTensors(adapterName: string): { config: Record<string, unknown>; tensors: Record<string, tf.Tensor> };
}

/** True when `model` implements {@link PeftExportable}. */
export function isPeftExportable(model: unknown): model is PeftExportable {
  return typeof (model as Partial<PeftExportable> | null)?.toPeftTensors === 'function';
}

const kinds: ModelKind[] = [];

/**
 * Registers a model kind for `applyLora`. Kinds are tried most recently registered first; registering the
 * same object twice is a no-op.
 */
export function registerModelKind<M, L>(kind: ModelKind<M, L>): void {
  if (kinds.includes(kind as ModelKind)) return;
  kinds.unshift(kind as ModelKind);
}

/** Every registered model kind, most recently registered first (core's `'layers'` last). */
export function listModelKinds(): readonly ModelKind[] {
  return [...kinds];
}

/** The kind that handles `model`; throws naming every registered kind (and the package to import) when none does. */
export function requireModelKind(model: unknown, caller: string): ModelKind {
  const kind = kinds.find((k) => k.matches(model));
  if (kind) return kind;
  const ctor = (model as { constructor?: { name?: string } } | null)?.constructor?.name;
  const found = model === null ? 'null' : typeof model === 'object' ? (ctor ?? 'an object') : typeof model;
  const graphHint = typeof (model as { executeAsync?: unknown } | null)?.executeAsync === 'function';
  throw new LoraConfigError(
    `${caller} expects one of: ${kinds.map((k) => `${k.name}${k.packageName ? ` (${k.packageName})` : ''}`).join(', ')}; found ${found}. ` +
      (graphHint && !kinds.some((k) => k.name === 'graph')
        ? 'This looks like a tf.GraphModel: add the @tfjs-lora/graph package and import it to apply LoRA to it.'
        : 'Pass a tf.LayersModel (Sequential or functional), or import the package that adds your model kind.'),
    { field: 'model' },
  );
}
