// Training a LoRA adapter, then the round trip of it through its files: saved into a temporary folder, read back
// onto a fresh base model. The library's functions come in as arguments (this package does not depend on
// @tfjs-lora/core): pass `{ applyLora, loadPeftAdapter, savePeftAdapter }`.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A model as the round trip uses it: a tfjs `LayersModel`, or a LoRA model wrapping one. */
export interface PredictingModel {
  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[];
  dispose(): void;
}

/** The @tfjs-lora/core functions the round trip calls (method signatures, so core's own functions fit). */
export interface PeftFileFunctions<M, L, A extends { dispose(): void }> {
  /** Writes the adapter's files into a folder. */
  savePeftAdapter(lm: NoInfer<L>, dir: string): Promise<unknown>;
  /** Reads an adapter's files from a folder. */
  loadPeftAdapter(dir: string): Promise<A>;
  /** Applies an adapter read by `loadPeftAdapter` to a base model. */
  applyLora(model: NoInfer<M>, adapter: NoInfer<A>): PredictingModel;
}

/** The steps of {@link trainedAdapterRoundTrip}. */
export interface TrainedAdapterRoundTrip<
  M extends PredictingModel,
  L extends PredictingModel,
  A extends { dispose(): void },
> {
  /** `{ applyLora, loadPeftAdapter, savePeftAdapter }` of @tfjs-lora/core. */
  peft: PeftFileFunctions<M, L, A>;
  /** Trains an adapter: its base model, the LoRA model, and the losses of the steps. */
  train(): Promise<{ base: M; lm: L; losses: number[] }>;
  /** The reference tensors the inputs (and `diff`) come from. */
  reference(): Record<string, tf.Tensor>;
  /** The inputs every model runs on, from the reference (not disposed separately: they are its tensors). */
  inputs(base: M, ref: Record<string, tf.Tensor>): tf.Tensor | tf.Tensor[];
  /** A fresh, untrained base model: `loadPretrained(...)`. */
  loadBase(): Promise<M>;
  /** Max difference of an output to the trained model's output. */
  diff(actual: tf.Tensor, trained: tf.Tensor, ref: Record<string, tf.Tensor>): Promise<number>;
}

/** What {@link trainedAdapterRoundTrip} measured. */
export interface RoundTripResult {
  /** The training losses, step by step. */
  losses: number[];
  /** Max difference of the reloaded model's output to the trained model's (the adapter survived its files). */
  reloaded: number;
  /** Max difference of the fresh base model's output to the trained model's (training moved the output). */
  untrained: number;
}

/**
 * Trains an adapter (`train`), saves it with `savePeftAdapter` into a fresh temporary folder, and applies the
 * folder's adapter (`loadPeftAdapter`, `applyLora`) to a fresh base model (`loadBase`); measures the outputs of
 * the reloaded and of the fresh base model against the trained one. Every model and tensor it makes or is given
 * (the trained models, the reference) is disposed and the folder removed, also when a step throws.
 */
export async function trainedAdapterRoundTrip<
  M extends PredictingModel,
  L extends PredictingModel,
  A extends { dispose(): void },
>(steps: TrainedAdapterRoundTrip<M, L, A>): Promise<RoundTripResult> {
  const { peft } = steps;
  const made: Array<{ dispose(): void }> = [];
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lora-round-trip-'));
  try {
    const { base, lm, losses } = await steps.train();
    made.push(base, lm);
    const ref = steps.reference();
    made.push({ dispose: () => tf.dispose(Object.values(ref)) });
    const inputs = steps.inputs(base, ref);
    const output = (model: PredictingModel): tf.Tensor => {
      const y = model.predict(inputs) as tf.Tensor;
      made.push(y);
      return y;
    };
    await peft.savePeftAdapter(lm, dir);
    const trained = output(lm);
    const fresh = await steps.loadBase();
    made.push(fresh);
    const adapter = await peft.loadPeftAdapter(dir);
    try {
      made.push(peft.applyLora(fresh, adapter));
    } finally {
      adapter.dispose();
    }
    const reloaded = await steps.diff(output(made.at(-1) as PredictingModel), trained, ref);
    const untrained = await steps.diff(output(fresh), trained, ref);
    return { losses, reloaded, untrained };
  } finally {
    for (const m of made.reverse()) m.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
