// Test helpers: the committed Keras fixtures (scripts/make-fixtures.py) and their inputs/outputs.
import type * as tf from '@tensorflow/tfjs-core';
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
