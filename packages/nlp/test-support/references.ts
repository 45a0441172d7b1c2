// Test helper: the PEFT reference values of test-support/peft-references.json (written by
// scripts/peft-references.py with PEFT 0.21 / PyTorch 2.13).
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One tensor as the script writes it. */
export interface RefTensor {
  shape: number[];
  data: number[];
}

/** The parsed reference file. */
export interface PeftReferences {
  peft_version: string;
  dora_embedding: Record<string, RefTensor>;
  mixed_batch: Record<string, RefTensor> & { base: Record<string, RefTensor>; adapter_names: string[] };
}

const here = dirname(fileURLToPath(import.meta.url));

/** Reads test-support/peft-references.json. */
export function peftReferences(): PeftReferences {
  return JSON.parse(readFileSync(join(here, 'peft-references.json'), 'utf8')) as PeftReferences;
}

/** A reference tensor as a tfjs tensor (float32, or int32 for ids). */
export function tensorOf(ref: RefTensor, dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
  return tf.tensor(ref.data, ref.shape, dtype);
}
