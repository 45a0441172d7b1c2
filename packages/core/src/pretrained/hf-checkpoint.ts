// A Hugging Face checkpoint: config.json + model.safetensors, or shards listed in model.safetensors.index.json.
import * as tf from '@tensorflow/tfjs-core';
import { ModelFormatError } from '../errors/index.js';
import { decodeSafetensorsEntry, parseSafetensors } from '../safetensors.js';
import type { LoadPretrainedOptions, ModelFiles } from './model-files.js';

/** The checkpoint's files: Hugging Face's names. */
export const HF_CONFIG_NAME = 'config.json';
/** The single-file weights name. */
export const HF_WEIGHTS_NAME = 'model.safetensors';
/** The sharded weights' index name. */
export const HF_WEIGHTS_INDEX_NAME = 'model.safetensors.index.json';

/** A checkpoint's config and state dict. Dispose it (or each tensor you keep none of) when done. */
export interface HfCheckpoint {
  /** config.json's object (`architectures`, `model_type`, the sizes). */
  readonly config: Record<string, unknown>;
  /** The state dict: keys as in the file (PyTorch layout: a Linear's weight is [out, in]); F16/BF16 widened to float32, I64 to int32. */
  readonly tensors: Map<string, tf.Tensor>;
  /** Disposes every tensor. */
  dispose(): void;
}

/** True when `files` hold a Hugging Face checkpoint (config.json), with the reason when not. */
export async function matchHfCheckpoint(files: ModelFiles): Promise<true | string> {
  const config = await files.readJson(HF_CONFIG_NAME);
  if (config === undefined) return `no ${HF_CONFIG_NAME}`;
  if (!Array.isArray(config['architectures']) && typeof config['model_type'] !== 'string')
    return `${HF_CONFIG_NAME} has neither architectures nor model_type`;
  return true;
}

/** The `architectures[0]` (or `model_type`) of a config.json, for matching and messages. */
export function hfArchitecture(config: Record<string, unknown>): string | undefined {
  const archs = config['architectures'];
  if (Array.isArray(archs) && typeof archs[0] === 'string') return archs[0];
  return typeof config['model_type'] === 'string' ? config['model_type'] : undefined;
}

/**
 * Reads a Hugging Face checkpoint: config.json and the weights (model.safetensors, or every shard named in
 * model.safetensors.index.json). PyTorch pickles (`pytorch_model.bin`) are refused: loading them can run
 * code; re-save with `save_pretrained(dir, safe_serialization=True)`.
 */
export async function readHfCheckpoint(
  files: ModelFiles,
  options: Pick<LoadPretrainedOptions, 'onProgress'> = {},
): Promise<HfCheckpoint> {
  const config = await files.readJson(HF_CONFIG_NAME);
  if (config === undefined) throw new ModelFormatError(`No ${HF_CONFIG_NAME} in ${files.description}.`);
  let shards: string[];
  const index = await files.readJson(HF_WEIGHTS_INDEX_NAME);
  if (index !== undefined) {
    const map = index['weight_map'];
    if (typeof map !== 'object' || map === null)
      throw new ModelFormatError(`${HF_WEIGHTS_INDEX_NAME} in ${files.description} has no weight_map object.`);
    shards = [...new Set(Object.values(map as Record<string, unknown>).map(String))];
  } else {
    shards = [HF_WEIGHTS_NAME];
  }
  const tensors = new Map<string, tf.Tensor>();
  const dispose = (): void => {
    for (const t of tensors.values()) t.dispose();
    tensors.clear();
  };
  try {
    for (const [i, shard] of shards.entries()) {
      options.onProgress?.(i / shards.length, `reading ${shard}`);
      const bytes = await files.read(shard);
      if (bytes === undefined) {
        const names = (await files.list()) ?? [];
        throw new ModelFormatError(
          `No ${shard} in ${files.description}` +
            (names.some((n) => n.endsWith('.bin'))
              ? '; it has PyTorch pickles (.bin), which can run code when loaded and are not read here. Re-save in Python with save_pretrained(dir, safe_serialization=True).'
              : index !== undefined
                ? `, which ${HF_WEIGHTS_INDEX_NAME} lists. Keep every shard beside the index.`
                : '. Expected the folder save_pretrained writes (config.json + model.safetensors).'),
        );
      }
      for (const entry of parseSafetensors(bytes).tensors) {
        if (tensors.has(entry.name))
          throw new ModelFormatError(`Tensor '${entry.name}' is in more than one shard of ${files.description}.`);
        const data = decodeSafetensorsEntry(entry, { copy: true });
        tensors.set(entry.name, tf.tensor(data.values, [...entry.shape], data.dtype));
      }
    }
  } catch (e) {
    dispose();
    throw e;
  }
  options.onProgress?.(1, 'weights read');
  return { config, tensors, dispose };
}
