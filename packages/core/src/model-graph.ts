import * as tf from '@tensorflow/tfjs-core';
import { Sequential, layers, type LayersModel, type LayerVariable } from '@tensorflow/tfjs-layers';
import { LoraError } from './errors/index.js';
import type { Layer } from './layer-kind.js';
import { ensureFrozenDenseGradients } from './frozen-dense.js';
import { ensureLayersConfigFixes } from './layers-config-fixes.js';
import { LoraLayer } from './lora-layer.js';
import type { LayerInfo } from './config/targets.js';

/** A layer entry of a container's config (`model.getConfig().layers[i]`). */
export interface LayerEntry {
  className: string;
  config: tf.serialization.ConfigDict;
  name?: string;
  inboundNodes?: unknown;
}

const CONTAINERS = new Set(['Sequential', 'Functional', 'Model']);

/** A layer with the dotted path used for target matching (`outer.inner` inside nested models). */
export interface PathLayer {
  /** Dotted path. */
  path: string;
  /** The layer. */
  layer: Layer;
}

function isContainer(layer: Layer): layer is Layer & { layers: Layer[] } {
  return Array.isArray((layer as { layers?: unknown }).layers);
}

/** Every non-container layer of a model in order, descending into nested models. */
export function walkLayers(model: LayersModel | Layer, prefix = ''): PathLayer[] {
  const out: PathLayer[] = [];
  for (const layer of (model as { layers: Layer[] }).layers) {
    const path = prefix + layer.name;
    if (isContainer(layer)) out.push(...walkLayers(layer, `${path}.`));
    else out.push({ path, layer });
  }
  return out;
}

/** Target-matching view of a model; LoRA-wrapped layers report their wrapped class. */
export function layerInfos(model: LayersModel): LayerInfo[] {
  const outputs = new Set(model.outputs.map((t) => t.sourceLayer));
  return walkLayers(model).map(({ path, layer }) => ({
    path,
    className: layer instanceof LoraLayer ? layer.layer.getClassName() : layer.getClassName(),
    isOutput: outputs.has(layer),
  }));
}

/**
 * Rebuilds a model from its config after `edit` rewrote layer entries (by path), synchronously; the
 * new model's weights are freshly initialised (copy them with {@link copyWeightsByName}). Its
 * `userDefinedMetadata` is carried over (a format's module aliases stay valid: layer names do not change).
 */
export function rebuildModel(model: LayersModel, edit: (entry: LayerEntry, path: string) => LayerEntry): LayersModel {
  ensureLayersConfigFixes(); // tfjs-layers 4.22 drops SeparableConv2D's depthMultiplier from its config
  ensureFrozenDenseGradients(); // frozen Dense layers: no discarded kernel gradient while training
  const config = JSON.parse(JSON.stringify(model.getConfig())) as tf.serialization.ConfigDict;
  const visit = (container: tf.serialization.ConfigDict, prefix: string): void => {
    const list = (Array.isArray(container) ? container : container['layers']) as unknown as LayerEntry[];
    for (let i = 0; i < list.length; i++) {
      const entry = list[i];
      const name = String(entry.config['name'] ?? entry.name);
      if (CONTAINERS.has(entry.className) && entry.config['layers'] !== undefined)
        visit(entry.config, `${prefix}${name}.`);
      else list[i] = edit(entry, prefix + name);
    }
  };
  visit(config, '');
  // A layer that refuses its config (e.g. a LoRA layer kind's check) throws half way through: the layers
  // built before it already hold new variables that no model owns. Dispose them, so a failed call leaks nothing.
  const known = new Set(Object.keys(tf.engine().registeredVariables));
  // Building runs each layer's initializers; some leave tensors behind (tfjs-layers 4.22's LSTM with
  // unitForgetBias, Keras's default, leaks four). A scope disposes them; the weights are variables, which
  // scopes do not track, so they stay.
  tf.engine().startScope();
  try {
    const rebuilt = deserializeLayer(model.getClassName(), config) as LayersModel;
    ensureBuilt(rebuilt);
    const metadata = model.getUserDefinedMetadata?.();
    if (metadata !== undefined) rebuilt.setUserDefinedMetadata(metadata);
    return rebuilt;
  } catch (e) {
    for (const [name, v] of Object.entries(tf.engine().registeredVariables)) if (!known.has(name)) v.dispose();
    throw e;
  } finally {
    tf.engine().endScope();
  }
}

/** Instantiates a registered tfjs class (layer or model) from its TS-form config. */
export function deserializeLayer(className: string, config: tf.serialization.ConfigDict): Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!entry) {
    throw new LoraError(
      `Class '${className}' is not registered with tfjs serialization; import the package that defines it.`,
    );
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config) as unknown as Layer;
}

/**
 * Builds a Sequential (and nested Sequentials) now: its lazy build sets `trainable` on every weight
 * (Container's setter), which would undo per-weight freezing done before the first predict/fit.
 */
export function ensureBuilt(model: Layer): void {
  if (model instanceof Sequential && !model.built) model.build();
  for (const layer of (model as { layers?: Layer[] }).layers ?? []) if (isContainer(layer)) ensureBuilt(layer);
}

/**
 * Copies every weight of `src` into the weight of `dst` with the same name and shape (names are
 * `layer/weight`, kept identical by LoRA wrapping). Returns the names in `dst` that got no value.
 */
export function copyWeightsByName(src: LayersModel, dst: LayersModel): string[] {
  const byName = new Map<string, LayerVariable>(src.weights.map((w) => [w.originalName, w]));
  const missing: string[] = [];
  for (const w of dst.weights) {
    const s = byName.get(w.originalName);
    if (s && tf.util.arraysEqual(s.shape as number[], w.shape as number[])) w.write(s.read());
    else missing.push(w.originalName);
  }
  return missing;
}

/**
 * Copies weights by name into a rebuilt model and throws when a weight of the rebuilt model that is not a
 * new LoRA variable got no value (a layer whose config does not survive `getConfig`/`fromConfig`, e.g. a
 * changed shape), disposing `dst`: the caller's model stays as it was.
 */
export function carryWeights(src: LayersModel, dst: LayersModel): void {
  const missing = copyWeightsByName(src, dst).filter(
    (n) => !/\/lora_(?:A|B|magnitude_vector|embedding_A|embedding_B)\./.test(n),
  );
  if (missing.length === 0) return;
  dst.dispose();
  throw new LoraError(
    `Rebuilding the model from its config lost ${missing.length} weight(s): ${missing.slice(0, 8).join(', ')}` +
      `${missing.length > 8 ? ', ...' : ''}. Their layers' configs do not reproduce the same weights (names or shapes). ` +
      `The model is unchanged; exclude those layers or report the layer class.`,
  );
}

/** Weight names that hold running statistics rather than parameters (PyTorch buffers). */
export function isBuffer(w: LayerVariable): boolean {
  return /(?:^|\/)(moving_mean|moving_variance)(?:_\d+)?$/.test(w.originalName);
}

/** Whether a weight is a bias (tfjs `bias`, or `beta` of normalisation layers, which PyTorch names bias). */
export function isBias(w: LayerVariable): boolean {
  return /(?:^|\/)(bias|beta)(?:_\d+)?$/.test(w.originalName);
}

/** The protected weight lists of a tfjs Layer (stable since tfjs-layers 1.x). */
interface WeightLists {
  _trainableWeights: LayerVariable[];
  _nonTrainableWeights: LayerVariable[];
}

/**
 * The layers that hold `layer`'s weights in their own lists: the layer itself, plus what it computes with
 * (an RNN's `cell`, StackedRNNCells' `cells`, Bidirectional's `forwardLayer`/`backwardLayer`, a Wrapper's
 * `layer` such as TimeDistributed's). Their owners' weight getters read these lists, so freezing must
 * reach them.
 */
export function weightOwners(layer: Layer): Layer[] {
  const l = layer as unknown as Record<string, unknown>;
  const inner = [l['cell'], l['forwardLayer'], l['backwardLayer'], l['layer'], ...((l['cells'] as unknown[]) ?? [])];
  return [layer, ...inner.filter((x): x is Layer => x instanceof layers.Layer && x !== layer).flatMap(weightOwners)];
}

/**
 * Freezes or unfreezes each weight of a plain layer so that it survives tfjs resetting flags:
 * `Sequential.compile()` rebuilds its inner model and sets `trainable` on every weight in each layer's
 * trainable list. Frozen weights are therefore moved to the non-trainable list, as Keras does (a fully
 * frozen layer keeps its weight order; a partly frozen one lists trainable weights first). Weights held by
 * sub-layers (RNN cells, Bidirectional/TimeDistributed's wrapped layers: {@link weightOwners}) are treated
 * the same way.
 */
export function setWeightsTrainable(layer: Layer, trainable: (w: LayerVariable) => boolean): void {
  for (const owner of weightOwners(layer)) {
    const lists = owner as unknown as WeightLists;
    const all = [...lists._trainableWeights, ...lists._nonTrainableWeights];
    const on = new Set(all.filter((w) => trainable(w)));
    owner.trainable = true;
    lists._trainableWeights = all.filter((w) => on.has(w));
    lists._nonTrainableWeights = all.filter((w) => !on.has(w));
    for (const w of all) w.trainable = on.has(w);
  }
}
