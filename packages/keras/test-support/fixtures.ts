// Test helpers: the committed Keras fixtures (scripts/make-fixtures.py) and their inputs/outputs.
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSafetensorsFile } from '@tfjs-lora/test-support';

/** The folder of the committed fixtures. */
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** A fixture's `.keras` bytes. */
export function kerasBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${FIXTURES}${name}.keras`));
}

/** A fixture's inputs and Keras's outputs (the caller disposes them). */
export function kerasIo(name: string): { inputs: tf.Tensor[]; outputs: tf.Tensor[] } {
  const all = readSafetensorsFile(`${FIXTURES}${name}.io.safetensors`);
  const pick = (prefix: string): tf.Tensor[] =>
    Object.keys(all)
      .filter((k) => k.startsWith(prefix))
      .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)))
      .map((k) => all[k]!);
  return { inputs: pick('input_'), outputs: pick('output_') };
}

/** Max |a − b|, read asynchronously. */
export async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0]!;
  d.dispose();
  return v;
}
