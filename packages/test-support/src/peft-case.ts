// One PEFT reference case (fixtures/peft-cases/<name>) read into tensors.
import type * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { peftCasePath } from './fixtures.js';
import { readSafetensorsFile } from './safetensors-file.js';

/** One layer of a case's architecture (case.json), in PyTorch's terms. */
export interface PeftCaseLayer {
  name: string;
  kind: 'linear' | 'conv2d' | 'embedding' | string;
  in_features?: number;
  out_features?: number;
  bias?: boolean;
  in_channels?: number;
  out_channels?: number;
  kernel_size?: number[];
  stride?: number[];
  padding?: number[];
  num_embeddings?: number;
  embedding_dim?: number;
}

/** One PEFT reference case: its case.json, adapter_config.json and the tensors of its three files. */
export interface PeftCase {
  name: string;
  /** The case's folder (holding `adapter/`). */
  dir: string;
  spec: { layers: PeftCaseLayer[]; lora_config: Record<string, unknown> };
  adapterConfig: Record<string, unknown>;
  base: Record<string, tf.Tensor>;
  adapter: Record<string, tf.Tensor>;
  io: Record<string, tf.Tensor>;
}

/** Loads one case of fixtures/peft-cases with the test reader (dispose it with {@link disposeCase}). */
export function loadPeftCase(name: string): PeftCase {
  const dir = peftCasePath(name);
  return {
    name,
    dir,
    spec: JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as PeftCase['spec'],
    adapterConfig: JSON.parse(readFileSync(join(dir, 'adapter', 'adapter_config.json'), 'utf8')) as Record<
      string,
      unknown
    >,
    base: readSafetensorsFile(join(dir, 'base.safetensors')),
    adapter: readSafetensorsFile(join(dir, 'adapter', 'adapter_model.safetensors')),
    io: readSafetensorsFile(join(dir, 'io.safetensors')),
  };
}

/** Disposes every tensor of a case. */
export function disposeCase(c: PeftCase): void {
  for (const group of [c.base, c.adapter, c.io]) Object.values(group).forEach((t) => t.dispose());
}
