// The round trip of a trained LoRA adapter through its files: saved into a temporary folder, read back onto a
// fresh base model. The library calls come in as functions (this package does not depend on @tfjs-lora/core).
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A model as the round trip uses it: a tfjs `LayersModel`, or a LoRA model wrapping one. */
export interface PredictingModel {
  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[];
  dispose(): void;
}

/** The steps of {@link adapterFileRoundTrip}. */
export interface AdapterRoundTripSteps<M extends PredictingModel, A extends { dispose(): void }> {
  /** Prefix of the temporary folder's name (under the OS's temporary folder). */
  prefix: string;
  /** The trained LoRA model (not disposed here). */
  trained: Pick<PredictingModel, 'predict'>;
  /** The inputs every model is run on (not disposed here). */
  inputs: tf.Tensor | tf.Tensor[];
  /** Writes the trained adapter's files into the folder: `(dir) => savePeftAdapter(lm, dir)`. */
  save(dir: string): Promise<unknown>;
  /** A fresh, untrained base model: `loadPretrained(...)`. */
  loadBase(): Promise<M>;
  /** Reads the saved adapter: `(dir) => loadPeftAdapter(dir)` (disposed once applied). */
  loadAdapter(dir: string): Promise<A>;
  /** Applies it to the fresh base model: `(base, adapter) => applyLora(base, adapter)`. */
  apply(base: M, adapter: A): PredictingModel;
  /** Max difference of an output to the trained model's output. */
  diff(actual: tf.Tensor, trained: tf.Tensor): Promise<number>;
}

/**
 * Saves the trained adapter into a fresh temporary folder and applies the saved files to a fresh base model;
 * returns the max difference to the trained model's output of that reloaded model's output (`reloaded`: the
 * adapter survived its files) and of the fresh base model's (`untrained`: training moved the output). Every
 * model and tensor it makes is disposed and the folder removed, also when a step throws.
 */
export async function adapterFileRoundTrip<M extends PredictingModel, A extends { dispose(): void }>(
  steps: AdapterRoundTripSteps<M, A>,
): Promise<{ reloaded: number; untrained: number }> {
  const dir = await mkdtemp(join(tmpdir(), steps.prefix));
  const made: Array<{ dispose(): void }> = [];
  const output = (model: Pick<PredictingModel, 'predict'>): tf.Tensor => {
    const y = model.predict(steps.inputs) as tf.Tensor;
    made.push(y);
    return y;
  };
  try {
    await steps.save(dir);
    const trained = output(steps.trained);
    const base = await steps.loadBase();
    made.push(base);
    const adapter = await steps.loadAdapter(dir);
    try {
      made.push(steps.apply(base, adapter));
    } finally {
      adapter.dispose();
    }
    const reloadedModel = made.at(-1) as PredictingModel;
    const reloaded = await steps.diff(output(reloadedModel), trained);
    const untrained = await steps.diff(output(base), trained);
    return { reloaded, untrained };
  } finally {
    for (const m of made.reverse()) m.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
