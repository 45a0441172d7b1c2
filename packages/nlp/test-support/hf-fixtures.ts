// Test helpers for the Hugging Face parity fixtures (fixtures/hf/, written by scripts/make-hf-fixtures.py).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensorsFile } from '@tfjs-lora/test-support';

/** fixtures/hf/ of this package. */
export const HF_FIXTURES = fileURLToPath(new URL('../fixtures/hf/', import.meta.url));

/** The folder of one fixture (`'gpt2-lm'`), or a file in it. */
export function hfFixture(name: string, ...rest: string[]): string {
  return join(HF_FIXTURES, name, ...rest);
}

/** reference.safetensors of a fixture: inputs (int32) and transformers' outputs (float32). */
export function readReference(name: string): Record<string, tf.Tensor> {
  return readSafetensorsFile(hfFixture(name, 'reference.safetensors'));
}

/** The model's inputs from a reference, in `model.inputNames` order. */
export function feeds(model: tfl.LayersModel, ref: Record<string, tf.Tensor>): tf.Tensor[] {
  return model.inputNames.map((n) => {
    const t = ref[n];
    if (!t) throw new Error(`reference has no input '${n}'`);
    return t;
  });
}

/**
 * Max |actual − expected| over the positions transformers' output means something: for per-token outputs
 * [batch, time, ...] only where attention_mask is 1 (padding positions are not compared); else everywhere.
 */
export async function maskedMaxDiff(actual: tf.Tensor, expected: tf.Tensor, mask: tf.Tensor): Promise<number> {
  if (!tf.util.arraysEqual(actual.shape, expected.shape))
    throw new Error(`shape [${actual.shape}] vs expected [${expected.shape}]`);
  const diff = tf.tidy(() => {
    let d = tf.abs(tf.sub(actual, expected));
    if (d.rank === 3 && d.shape[1] === mask.shape[1]) d = tf.mul(d, tf.expandDims(tf.cast(mask, 'float32'), -1));
    return tf.max(d);
  });
  const [v] = await diff.data();
  diff.dispose();
  return v!;
}
