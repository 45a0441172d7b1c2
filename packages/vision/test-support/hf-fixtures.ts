// Test helpers for the Hugging Face ViT fixtures (fixtures/hf/, written by scripts/make-hf-vision-fixtures.py).
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensorsFile } from '@tfjs-lora/test-support';

/** fixtures/hf/ of this package. */
export const HF_FIXTURES = fileURLToPath(new URL('../fixtures/hf/', import.meta.url));

/** The folder of one fixture (`'vit-cls'`), or a file in it. */
export function hfFixture(name: string, ...rest: string[]): string {
  return join(HF_FIXTURES, name, ...rest);
}

/** reference.safetensors of a fixture: pixel_values (NHWC) and transformers' outputs (float32). */
export function readReference(name: string): Record<string, tf.Tensor> {
  return readSafetensorsFile(hfFixture(name, 'reference.safetensors'));
}

/** Max |a − b| (shapes must agree). */
export async function maxAbsDiff(actual: tf.Tensor, expected: tf.Tensor): Promise<number> {
  if (!tf.util.arraysEqual(actual.shape, expected.shape))
    throw new Error(`shape [${actual.shape}] vs expected [${expected.shape}]`);
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))));
  const [v] = await d.data();
  d.dispose();
  return v!;
}

/** The model's outputs as a list (ViTModel with a pooler has two). */
export function outputList(y: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(y) ? y : [y];
}

/** Max difference of every output of `y` to the reference's `key` (and `key_pooler` for a second output). */
export async function compareOutputs(
  y: tf.Tensor | tf.Tensor[],
  ref: Record<string, tf.Tensor>,
  key: string,
): Promise<number> {
  const ys = outputList(y);
  const expected = [ref[key]!, ...(ref[`${key}_pooler`] ? [ref[`${key}_pooler`]!] : [])];
  if (ys.length !== expected.length) throw new Error(`${ys.length} outputs, reference has ${expected.length}`);
  let worst = 0;
  for (const [i, t] of ys.entries()) worst = Math.max(worst, await maxAbsDiff(t, expected[i]!));
  tf.dispose(ys);
  return worst;
}
