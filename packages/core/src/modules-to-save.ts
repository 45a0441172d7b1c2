import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import type { ModuleSelector } from './config.js';
import type { Layer } from './layer-kind.js';
import { LoraLayer } from './lora-layer.js';
import { walkLayers } from './model-graph.js';
import { matchesSelector } from './config/patterns.js';

/** A layer's weights in a fixed order (by name): freezing can reorder `layer.weights`. */
function canonical(layer: Layer): LayerVariable[] {
  return [...layer.weights].sort((a, b) =>
    a.originalName < b.originalName ? -1 : a.originalName > b.originalName ? 1 : 0,
  );
}

function snapshot(layer: Layer): tf.Tensor[] {
  return canonical(layer).map((w) => tf.keep(tf.clone(w.read())));
}

function restore(layer: Layer, values: tf.Tensor[]): void {
  canonical(layer).forEach((w, i) => w.write(values[i]));
}

/**
 * PEFT's `modules_to_save`: layers trained in full, one copy per adapter, with the original kept frozen
 * for disabled adapters. The layer's own variables hold the live copy; the others are kept here.
 */
export class ModulesToSave {
  private readonly original = new Map<string, tf.Tensor[]>();
  private readonly stash = new Map<string, Map<string, tf.Tensor[]>>();
  private readonly owners = new Map<string, Set<string>>();
  private live: string | null = null;

  /** Records the layers `adapter` saves; the first adapter to save a layer makes it live. */
  capture(model: LayersModel, adapter: string, selector: ModuleSelector | null): void {
    if (!selector || (Array.isArray(selector) && selector.length === 0)) return;
    for (const { path, layer } of this.layers(model)) {
      if (!matchesSelector(selector, path)) continue;
      if (!this.original.has(path)) this.original.set(path, snapshot(layer));
      const owners = this.owners.get(path) ?? new Set<string>();
      owners.add(adapter);
      this.owners.set(path, owners);
      if (this.live === null) this.live = adapter;
      if (this.live !== adapter)
        this.stashFor(adapter).set(
          path,
          this.original.get(path)!.map((t) => tf.keep(tf.clone(t))),
        );
    }
  }

  /** Puts `adapter`'s copies (or the originals, for null) into the layers. */
  activate(model: LayersModel, adapter: string | null): void {
    if (adapter === this.live || this.original.size === 0) return;
    for (const { path, layer } of this.layers(model)) {
      const original = this.original.get(path);
      if (!original) continue;
      if (this.live !== null && this.owners.get(path)?.has(this.live)) {
        const kept = this.stashFor(this.live);
        kept.get(path)?.forEach((t) => t.dispose());
        kept.set(path, snapshot(layer));
      }
      const next =
        adapter !== null && this.owners.get(path)?.has(adapter) ? this.stash.get(adapter)?.get(path) : original;
      if (next) restore(layer, next);
      if (adapter !== null) {
        this.stash
          .get(adapter)
          ?.get(path)
          ?.forEach((t) => t.dispose());
        this.stash.get(adapter)?.delete(path);
      }
    }
    this.live = adapter;
  }

  /** Forgets an adapter's copies; its live values are replaced by the originals. */
  drop(model: LayersModel, adapter: string): void {
    if (this.live === adapter) this.activate(model, null);
    this.stash.get(adapter)?.forEach((ts) => ts.forEach((t) => t.dispose()));
    this.stash.delete(adapter);
    for (const owners of this.owners.values()) owners.delete(adapter);
  }

  /** Parameters PEFT counts beyond the layer's own variables: one copy per adapter that saves it. */
  frozenCopySize(): number {
    let n = 0;
    for (const [path, ts] of this.original) {
      const size = ts.reduce((s, t) => s + t.size, 0);
      n += size * (this.owners.get(path)?.size ?? 0);
    }
    return n;
  }

  /** The paths of the layers `selector` (an adapter's modulesToSave) names; LoRA-wrapped layers never are. */
  paths(model: LayersModel, selector: readonly string[] | null): string[] {
    if (!selector || selector.length === 0) return [];
    return this.layers(model)
      .filter(({ path }) => matchesSelector(selector, path))
      .map((l) => l.path);
  }

  /**
   * Copies of layer `path`'s weights as `adapter` has them (the caller disposes them); `live` is the adapter
   * whose copy is in the layer now (null: the originals). With `replace`, `adapter`'s copy is set first.
   */
  weightsOf(
    model: LayersModel,
    adapter: string,
    path: string,
    live: string | null,
    replace?: tf.Tensor[],
  ): tf.Tensor[] {
    const layer = walkLayers(model).find((l) => l.path === path)!.layer;
    if (adapter !== live) this.activate(model, adapter);
    try {
      if (replace) layer.setWeights(replace);
      return layer.getWeights().map((t) => tf.clone(t));
    } finally {
      if (adapter !== live) this.activate(model, live);
    }
  }

  /** Disposes every kept copy. */
  dispose(): void {
    this.original.forEach((ts) => ts.forEach((t) => t.dispose()));
    this.stash.forEach((m) => m.forEach((ts) => ts.forEach((t) => t.dispose())));
    this.original.clear();
    this.stash.clear();
  }

  private stashFor(adapter: string): Map<string, tf.Tensor[]> {
    let m = this.stash.get(adapter);
    if (!m) this.stash.set(adapter, (m = new Map()));
    return m;
  }

  private layers(model: LayersModel): { path: string; layer: Layer }[] {
    return walkLayers(model).filter(({ layer }) => !(layer instanceof LoraLayer));
  }
}
