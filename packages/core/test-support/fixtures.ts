// Test helpers: read the shared PEFT reference cases (../shared/fixtures) with the library's own
// safetensors reader.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../src/safetensors.js';

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared/fixtures beside the repository root (override with TFJS_LORA_FIXTURES). */
export const FIXTURES = process.env.TFJS_LORA_FIXTURES ?? resolve(here, '../../../../shared/fixtures');

/** Whether ../shared/fixtures/peft-cases is present. */
export function fixturesPresent(): boolean {
  return existsSync(join(FIXTURES, 'peft-cases'));
}

/** Whether ../shared/fixtures/peft-real is present. */
export function realFixturesPresent(): boolean {
  return existsSync(join(FIXTURES, 'peft-real'));
}

/** Every .safetensors file under the shared fixtures, sorted. */
export function fixtureFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.safetensors')) out.push(p);
    }
  };
  if (existsSync(FIXTURES)) walk(FIXTURES);
  return out.sort();
}

/** Reads a safetensors file into tensors (F32 → float32, I64 → int32, ...) with {@link readSafetensors}. */
export function readSafetensorsFile(path: string): Record<string, tf.Tensor> {
  return readSafetensors(readFileSync(path), { copy: true });
}

/** One PEFT reference case: its case.json, adapter_config.json and the tensors of its three files. */
export interface PeftCase {
  name: string;
  spec: {
    layers: { name: string; kind: string; in_features?: number; out_features?: number; bias?: boolean }[];
    lora_config: Record<string, unknown>;
  };
  adapterConfig: Record<string, unknown>;
  base: Record<string, tf.Tensor>;
  adapter: Record<string, tf.Tensor>;
  io: Record<string, tf.Tensor>;
}

/** Loads one case of ../shared/fixtures/peft-cases. */
export function loadPeftCase(name: string): PeftCase {
  const dir = join(FIXTURES, 'peft-cases', name);
  return {
    name,
    spec: JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')),
    adapterConfig: JSON.parse(readFileSync(join(dir, 'adapter', 'adapter_config.json'), 'utf8')),
    base: readSafetensorsFile(join(dir, 'base.safetensors')),
    adapter: readSafetensorsFile(join(dir, 'adapter', 'adapter_model.safetensors')),
    io: readSafetensorsFile(join(dir, 'io.safetensors')),
  };
}

/** Disposes every tensor of a case. */
export function disposeCase(c: PeftCase): void {
  for (const group of [c.base, c.adapter, c.io]) Object.values(group).forEach((t) => t.dispose());
}

/** Max |a - b| over all elements (shapes must match). */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  if (!tf.util.arraysEqual(a.shape, b.shape)) throw new Error(`shape mismatch ${a.shape} vs ${b.shape}`);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
