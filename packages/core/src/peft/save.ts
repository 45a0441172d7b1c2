// savePeftAdapter: a LoraModel's adapter as PEFT writes it (names, PyTorch layout, sub-folders).
import * as tf from '@tensorflow/tfjs-core';
import { toPeftJson } from '../config.js';
import { AdapterStateError, LoraConfigError } from '../errors/index.js';
import type { Layer } from '../layer-kind.js';
import { LoraLayer } from '../lora-layer.js';
import type { LoraModel } from '../lora-model.js';
import { isBias, walkLayers } from '../model-graph.js';
import { setOwn } from '../safetensors.js';
import { writeSafetensors, writeSafetensorsAsync } from '../safetensors-write.js';
import { factorKey, MAGNITUDE_NAME, paramKey, PEFT_KEY_PREFIX } from './keys.js';
import { ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, configText, type PeftAdapterFiles } from './files.js';
import { isIOHandler, peftArtifacts, peftDownloads, routedHandler } from './io.js';
import { nodePath, writeFilesAtomic, type NodeFs } from '../node/fs.js';
import { findPeftWeightLayout, paramToPeft } from './weight-layouts.js';
import { requireSyncRead } from '../sync-read.js';
import { isPeftExportable, type PeftExportable } from '../model-kind.js';

/** What can be saved as a PEFT adapter: a LoraModel, or a plugin's LoRA model (`LoraGraphModel`). */
export type PeftSaveable = LoraModel | PeftExportable;

/** Options of {@link encodePeftAdapter} and {@link savePeftAdapter}. */
export interface SavePeftOptions {
  /** The adapter to save. Directories get every adapter when omitted (as PEFT's save_pretrained); other targets the active one. */
  adapterName?: string;
  /** dtype of the saved float tensors (default F32, as PEFT saves fp32 adapters). */
  floatDtype?: 'F32' | 'F16' | 'BF16';
  /** @internal File system to use (tests inject failures). */
  fs?: NodeFs;
}

/** Where each adapter went. */
export interface PeftSaveResult {
  saved: { adapterName: string; location: string; weightBytes: number }[];
}

/** Where {@link savePeftAdapter} can write: a directory path (Node), a tf.io URL (`indexeddb://x`, `downloads://prefix`) or an IOHandler. */
export type PeftAdapterTarget = string | tf.io.IOHandler;

function paramsOf(
  layer: Layer,
  weights: tf.Tensor[],
  peftPath: string,
  only?: (w: Layer['weights'][number]) => boolean,
): [string, tf.Tensor][] {
  const layout = findPeftWeightLayout(layer.getClassName());
  const out: [string, tf.Tensor][] = [];
  layer.weights.forEach((v, i) => {
    if (only && !only(v)) return;
    const local = v.originalName.slice(v.originalName.lastIndexOf('/') + 1).replace(/_\d+$/, '');
    const entry = layout && Object.entries(layout.params).find(([, p]) => p.weight === local);
    if (!entry) {
      throw new LoraConfigError(
        `Cannot save weight '${v.originalName}' of layer '${peftPath}' (${layer.getClassName()}) in PEFT's format: no PyTorch layout is known for it. ` +
          'Register one with registerPeftWeightLayout, or drop the layer from modulesToSave / use bias "none".',
        { field: 'modulesToSave' },
      );
    }
    out.push([entry[0], paramToPeft(entry[1], weights[i]!)]);
  });
  return out;
}

/**
 * A LoraModel's adapter as PEFT's two files: adapter_config.json (the config as loaded, or this
 * model's config) and adapter_model.safetensors with PEFT's names and PyTorch layouts (LoRA factors via
 * each layer kind's `toPeft`, modules_to_save and biases via the registered weight layouts). Reads the
 * weights asynchronously (`data()`), so it works on every backend, WebGPU included.
 */
export async function encodePeftAdapterAsync(
  lm: PeftSaveable,
  options: SavePeftOptions = {},
): Promise<PeftAdapterFiles> {
  const { config, tensors } = peftTensors(lm, options);
  try {
    return {
      config,
      weights: await writeSafetensorsAsync(tensors, { format: 'pt' }, { floatDtype: options.floatDtype }),
    };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/**
 * The synchronous form of {@link encodePeftAdapterAsync}, for models on the cpu, wasm or native backend
 * (it reads with `dataSync`); on a GPU backend (webgpu, webgl) it throws a `LoraError` naming
 * `encodePeftAdapterAsync`.
 */
export function encodePeftAdapter(lm: PeftSaveable, options: SavePeftOptions = {}): PeftAdapterFiles {
  requireSyncRead('encodePeftAdapter', 'await encodePeftAdapterAsync(...)');
  const { config, tensors } = peftTensors(lm, options);
  try {
    return { config, weights: writeSafetensors(tensors, { format: 'pt' }, { floatDtype: options.floatDtype }) };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** adapter_config.json's object and the tensors of adapter_model.safetensors (new tensors; the caller disposes them). */
function peftTensors(
  lm: PeftSaveable,
  options: SavePeftOptions,
): { config: Record<string, unknown>; tensors: Record<string, tf.Tensor> } {
  const name = options.adapterName ?? lm.activeAdapters[0]!;
  if (isPeftExportable(lm)) {
    checkAdapterExists(lm, name);
    return lm.toPeftTensors(name);
  }
  return loraModelTensors(lm as LoraModel, name);
}

/** Throws an AdapterStateError naming the adapters when `name` is not one of them. */
function checkAdapterExists(lm: PeftSaveable, name: string): void {
  if (!lm.adapterNames.includes(name))
    throw new AdapterStateError(`No adapter '${name}'; adapters: ${lm.adapterNames.join(', ')}.`, { adapter: name });
}

function loraModelTensors(
  lm: LoraModel,
  name: string,
): { config: Record<string, unknown>; tensors: Record<string, tf.Tensor> } {
  const config = lm.peftConfig(name);
  const report = lm.peftLoadReport(name);
  const json = toPeftJson(report?.config ?? config);
  if (!('inference_mode' in json)) json['inference_mode'] = true;
  const peftPath = (path: string): string => report?.paths.get(path) ?? path;
  if (lm.loraLayers().some(({ layer }) => layer.merged.includes(name))) {
    throw new AdapterStateError(`Adapter '${name}' is merged into the base weights; unmerge() before saving it.`, {
      adapter: name,
    });
  }
  const tensors: Record<string, tf.Tensor> = {};
  const add = (key: string, t: tf.Tensor): void => setOwn(tensors, key, t);
  try {
    for (const { path, layer } of lm.loraLayers()) {
      if (!layer.adapterNames.includes(name)) continue;
      const w = layer.weightsOf(name);
      const p = peftPath(path);
      add(
        factorKey(p, layer.kind.peftNames.loraA),
        tf.tidy(() => layer.kind.toPeft(layer.layer, 'loraA', w.loraA.read())),
      );
      add(
        factorKey(p, layer.kind.peftNames.loraB),
        tf.tidy(() => layer.kind.toPeft(layer.layer, 'loraB', w.loraB.read())),
      );
      if (w.magnitude && layer.kind.dora) {
        const dora = layer.kind.dora;
        const magnitude = w.magnitude.read();
        add(
          `${PEFT_KEY_PREFIX}${p}.${MAGNITUDE_NAME}`,
          tf.tidy(() => tf.clone(dora.magnitudeToPeft(layer.layer, magnitude))),
        );
      }
    }
    const savedPaths = lm.savedModulePaths(name);
    const layers = new Map(walkLayers(lm.model).map((l) => [l.path, l.layer]));
    for (const path of savedPaths) {
      const copies = lm.savedModuleWeights(name, path);
      try {
        for (const [param, t] of paramsOf(layers.get(path)!, copies, peftPath(path)))
          add(paramKey(peftPath(path), param), t);
      } finally {
        tf.dispose(copies);
      }
    }
    if (config.bias !== 'none') {
      for (const [path, layer] of layers) {
        const isLora = layer instanceof LoraLayer;
        if (
          savedPaths.includes(path) ||
          (config.bias === 'lora_only' && !(isLora && layer.adapterNames.includes(name)))
        )
          continue;
        const inner = isLora ? layer.layer : layer;
        const prefix = isLora ? `${peftPath(path)}.base_layer` : peftPath(path);
        const biasValues = inner.weights.map((v) => v.read());
        for (const [param, t] of paramsOf(inner, biasValues, peftPath(path), isBias)) add(paramKey(prefix, param), t);
      }
    }
    return { config: json, tensors };
  } catch (e) {
    tf.dispose(Object.values(tensors));
    throw e;
  }
}

/**
 * Saves adapters in PEFT's format. A directory (Node) gets adapter_config.json + adapter_model.safetensors,
 * `default` at its root and other adapters in sub-folders named after them (as PEFT's save_pretrained),
 * every adapter when `adapterName` is omitted; each folder is written atomically (temporary files, then
 * renames; a failure leaves the previous files). A tf.io URL or IOHandler gets one adapter (`adapterName`
 * or the active one): `downloads://prefix` downloads the two files, `indexeddb://name` stores them.
 */
export async function savePeftAdapter(
  lm: PeftSaveable,
  target: PeftAdapterTarget,
  options: SavePeftOptions = {},
): Promise<PeftSaveResult> {
  if (options.adapterName !== undefined) checkAdapterExists(lm, options.adapterName);
  if ((typeof target === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) || /^file:\/\//i.test(String(target))) {
    const dir = String(target).replace(/^file:\/\//i, '');
    const path = await nodePath();
    const names = options.adapterName !== undefined ? [options.adapterName] : lm.adapterNames;
    const files: { name: string; files: PeftAdapterFiles }[] = [];
    for (const n of names)
      files.push({ name: n, files: await encodePeftAdapterAsync(lm, { ...options, adapterName: n }) });
    const saved: PeftSaveResult['saved'] = [];
    for (const { name, files: f } of files) {
      const location = name === 'default' ? dir : path.join(dir, name);
      const weights = f.weights as Uint8Array;
      await writeFilesAtomic(
        location,
        [
          { name: ADAPTER_WEIGHTS_NAME, data: weights },
          {
            name: ADAPTER_CONFIG_NAME,
            data: new TextEncoder().encode(configText(f.config as Record<string, unknown>)),
          },
        ],
        options.fs,
      );
      saved.push({ adapterName: name, location, weightBytes: weights.byteLength });
    }
    return { saved };
  }
  const handler =
    typeof target === 'string'
      ? /^downloads:\/\//i.test(target)
        ? peftDownloads(target.slice('downloads://'.length))
        : routedHandler(target, 'save')
      : target;
  if (!isIOHandler(handler) || typeof handler.save !== 'function') {
    throw new LoraConfigError(
      `savePeftAdapter needs a directory path, a tf.io URL or an IOHandler with save(); found ${typeof target}.`,
      { field: 'target' },
    );
  }
  const adapterName = options.adapterName ?? lm.activeAdapters[0]!;
  const files = await encodePeftAdapterAsync(lm, { ...options, adapterName });
  await handler.save(peftArtifacts(files));
  return {
    saved: [
      {
        adapterName,
        location: typeof target === 'string' ? target : 'IOHandler',
        weightBytes: (files.weights as Uint8Array).byteLength,
      },
    ],
  };
}
