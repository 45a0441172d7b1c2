import * as tf from '@tensorflow/tfjs-core';
import { models, Sequential, type LayersModel, type LayerVariable } from '@tensorflow/tfjs-layers';
import type { Layer } from './layer-adapter.js';
import { LoraLayer } from './lora-layer.js';
import type { LayerInfo } from './target-match.js';

/** A layer entry of a model's Keras-format JSON (snake_case keys, as `model.toJSON` writes it). */
export interface PyLayer {
  class_name: string;
  config: Record<string, unknown>;
  name?: string;
  inbound_nodes?: unknown;
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

/** Rebuilds a model from its JSON after `edit` rewrote layer entries (by path); weights are new. */
export async function rebuildModel(
  model: LayersModel,
  edit: (entry: PyLayer, path: string) => PyLayer,
): Promise<LayersModel> {
  const json = model.toJSON(null, false) as unknown as PyLayer;
  const visit = (container: PyLayer, prefix: string): void => {
    const list = container.config['layers'] as PyLayer[];
    for (let i = 0; i < list.length; i++) {
      const entry = list[i];
      const name = String(entry.config['name'] ?? entry.name);
      if (CONTAINERS.has(entry.class_name) && Array.isArray(entry.config['layers'])) visit(entry, `${prefix}${name}.`);
      else list[i] = edit(entry, prefix + name);
    }
  };
  visit(json, '');
  const rebuilt = await models.modelFromJSON(json as unknown as Parameters<typeof models.modelFromJSON>[0]);
  ensureBuilt(rebuilt);
  return rebuilt;
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

/** Weight names that hold running statistics rather than parameters (PyTorch buffers). */
export function isBuffer(w: LayerVariable): boolean {
  return /(?:^|\/)(moving_mean|moving_variance)(?:_\d+)?$/.test(w.originalName);
}

/** Whether a weight is a bias (tfjs `bias`, or `beta` of normalisation layers, which PyTorch names bias). */
export function isBias(w: LayerVariable): boolean {
  return /(?:^|\/)(bias|beta)(?:_\d+)?$/.test(w.originalName);
}
