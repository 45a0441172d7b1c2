// Named adapters of one task's LoraModel: create on first use, add later ones, switch, merge state,
// PEFT files, IndexedDB. Shared by the vision and text tasks.
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  applyLora,
  loadPeftAdapter,
  savePeftAdapter,
  type LoraConfigInput,
  type LoraModel,
  type PeftAdapterSource,
} from '@tfjs-lora/core';
import { encodePeftAdapterAsync } from '@tfjs-lora/core/peft';
import { peftDownload } from './peft-download.js';
import type { AdapterInfo, ParamRow, ParamsResult, Task } from '../protocol.js';

/** Parameters of a model's layer (all its weights). */
function layerParams(layer: tfl.layers.Layer): number {
  return layer.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

/** The adapters of one task over one base model. */
export class AdapterSet {
  lora: LoraModel | null = null;
  readonly infos = new Map<string, AdapterInfo>();
  merged = false;

  constructor(
    readonly task: Task,
    readonly base: tfl.LayersModel,
  ) {}

  /** The model to run: the LoRA model when adapters exist, else the base. */
  get model(): tfl.LayersModel {
    return this.lora?.model ?? this.base;
  }

  get active(): string | null {
    return this.lora?.activeAdapters[0] ?? null;
  }

  list(): AdapterInfo[] {
    return [...this.infos.values()];
  }

  /**
   * Adds (or replaces) adapter `name` with `config` and makes it the active one (async: PiSSA/OLoRA
   * initialisation reads the kernels asynchronously).
   */
  async create(name: string, config: LoraConfigInput, info: AdapterInfo, seed = 1): Promise<LoraModel> {
    this.unmerge();
    if (!this.lora) {
      this.lora = await applyLora(this.base, config, { adapterName: name, seed });
    } else {
      if (this.lora.adapterNames.includes(name)) {
        if (this.lora.adapterNames.length === 1) {
          this.lora.dispose();
          this.lora = null;
          this.infos.clear();
          return this.create(name, config, info, seed);
        }
        this.lora.setAdapter(this.lora.adapterNames.find((n) => n !== name)!);
        this.lora.deleteAdapter(name);
      }
      await this.lora.addAdapter(name, config, { seed });
      this.lora.setAdapter(name);
    }
    this.infos.delete(name);
    this.infos.set(name, info);
    return this.lora;
  }

  /** Loads a PEFT adapter (files, IndexedDB URL) as `name` and activates it. */
  async load(
    source: PeftAdapterSource,
    name: string,
    info: Omit<AdapterInfo, 'r' | 'loraAlpha' | 'targets'>,
  ): Promise<AdapterInfo> {
    this.unmerge();
    if (this.lora?.adapterNames.includes(name))
      throw new Error(`An adapter named '${name}' exists already; choose another name.`);
    if (!this.lora) {
      const adapter = await loadPeftAdapter(source);
      try {
        this.lora = applyLora(this.base, adapter, { adapterName: name });
      } finally {
        adapter.dispose();
      }
    } else {
      await this.lora.loadAdapter(source, name);
    }
    this.lora.setAdapter(name);
    const config = this.lora.peftConfig(name);
    const targets = this.lora
      .loraLayers()
      .filter(({ layer }) => layer.adapterNames.includes(name))
      .map(({ path }) => path);
    const full: AdapterInfo = { ...info, r: config.r, loraAlpha: config.loraAlpha, targets };
    this.infos.set(name, full);
    return full;
  }

  setActive(name: string): void {
    if (!this.lora?.adapterNames.includes(name))
      throw new Error(`No adapter named '${name}' (have: ${this.lora?.adapterNames.join(', ') || 'none'}).`);
    this.unmerge();
    this.lora.setAdapter(name);
  }

  merge(): void {
    if (this.lora && !this.merged) {
      this.lora.merge();
      this.merged = true;
    }
  }

  unmerge(): void {
    if (this.lora && this.merged) {
      this.lora.unmerge();
      this.merged = false;
    }
  }

  /**
   * Runs `fn` with the base model's behaviour (adapters off, unmerged for the call if merged); `fn` may be
   * async (reads with await): adapters and merge state come back when its promise settles.
   */
  async withBase<T>(fn: (m: tfl.LayersModel) => T | Promise<T>): Promise<T> {
    if (!this.lora) return fn(this.base);
    const lora = this.lora;
    const wasMerged = this.merged;
    this.unmerge();
    try {
      return await lora.withAdaptersDisabled(() => fn(lora.model));
    } finally {
      if (wasMerged) this.merge();
    }
  }

  /** PEFT's two files of adapter `name` (the weights read with await: no synchronous GPU read). */
  async encode(name: string): Promise<{ config: string; weights: Uint8Array }> {
    if (!this.lora) throw new Error('No adapter yet: train or load one first.');
    const wasMerged = this.merged;
    this.unmerge();
    try {
      return peftDownload(await encodePeftAdapterAsync(this.lora, { adapterName: name }));
    } finally {
      if (wasMerged) this.merge();
    }
  }

  /** Saves adapter `name` under `indexeddb://tfjs-lora-demo/<task>/<name>`; returns the URL. */
  async saveIdb(name: string): Promise<string> {
    if (!this.lora) throw new Error('No adapter yet: train or load one first.');
    this.unmerge();
    const url = `indexeddb://tfjs-lora-demo/${this.task}/${name}`;
    await savePeftAdapter(this.lora, url, { adapterName: name });
    return url;
  }

  /** The LoRA vs full fine-tuning parameter table for rank `r` on `targets` (computed, no model built). */
  params(r: number, targets: readonly string[]): ParamsResult {
    const rows: ParamRow[] = [];
    let full = 0;
    for (const layer of this.base.layers) {
      const n = layerParams(layer);
      full += n;
      if (!n) continue;
      const kernel = layer.weights.find((w) => /kernel|embeddings/.test(w.originalName));
      const shape = (kernel?.shape ?? []) as number[];
      const hit = targets.some((t) => layer.name === t || layer.name.endsWith(`.${t}`));
      let lora = 0;
      if (hit && shape.length >= 2) {
        // Dense [in, out]: r·(in + out). Conv [kh, kw, in, out]: A [kh, kw, in, r] + B [1, 1, r, out]. Embedding [num, dim]: r·(num + dim).
        const out = shape[shape.length - 1]!;
        const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
        lora = r * (fanIn + out);
      }
      rows.push({ layer: layer.name, base: n, lora });
    }
    return { rows, lora: rows.reduce((n, x) => n + x.lora, 0), full, total: full };
  }
}
