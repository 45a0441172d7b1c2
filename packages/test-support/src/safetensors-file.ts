// Node: a safetensors file into tensors, with the test reader.
import type * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { readSafetensorsBytes } from './safetensors-bytes.js';

/** Reads a safetensors file into tensors (F32/F64 → float32, I32/I64 → int32, BOOL → bool). */
export function readSafetensorsFile(path: string): Record<string, tf.Tensor> {
  return readSafetensorsBytes(readFileSync(path));
}
