// Test-only helpers: read the shared PEFT reference cases. The hardened safetensors reader is the
// PEFT-format issue's; this minimal one reads the trusted fixtures (F32 and I64 only).
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared/fixtures beside the repository root (override with TFJS_LORA_FIXTURES). */
export const FIXTURES = process.env.TFJS_LORA_FIXTURES ?? resolve(here, '../../../../shared/fixtures');

export function fixturesPresent(): boolean {
  return existsSync(join(FIXTURES, 'peft-cases'));
}

/** Reads a safetensors file into tensors (F32 → float32, I64 → int32). */
export function readSafetensorsFile(path: string): Record<string, tf.Tensor> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + n;
  const out: Record<string, tf.Tensor> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [s, e] = info.data_offsets;
    const bytes = buf.subarray(base + s, base + e);
    const copy = new Uint8Array(bytes); // aligned copy
    if (info.dtype === 'F32') out[name] = tf.tensor(new Float32Array(copy.buffer), info.shape, 'float32');
    else if (info.dtype === 'I64') out[name] = tf.tensor(Int32Array.from(new BigInt64Array(copy.buffer), (v) => Number(v)), info.shape, 'int32');
    else throw new Error(`fixture reader: unsupported dtype ${info.dtype} for ${name}`);
  }
  return out;
}

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
