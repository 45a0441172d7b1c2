import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { requireSyncRead } from '@tfjs-lora/core/math';
import { lmInputs } from './lm-inputs.js';
import { evaluationOffsets, randomWindows, seededRandom, windowsAt, type LmBatch } from './text-windows.js';

/** Mean next-token cross-entropy (nats) of logits [b, t, V] against int32 targets [b, t]. */
export function nextTokenLoss(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const vocab = logits.shape[logits.rank - 1] as number;
    const flat = tf.reshape(logits, [-1, vocab]);
    const labels = tf.oneHot(tf.reshape(targets, [-1]) as tf.Tensor1D, vocab);
    return tf.losses.softmaxCrossEntropy(labels, flat) as tf.Scalar;
  });
}

/** Options of {@link trainLanguageModel}. */
export interface LmTrainingOptions {
  /** Optimizer steps. */
  steps: number;
  /** Windows per step. */
  batchSize: number;
  /** Tokens per window. */
  length: number;
  /** Adam learning rate (default 1e-3). */
  learningRate?: number;
  /** Seed of the window sampling. */
  seed?: number;
  /** Called after every step with the step number (1-based) and the batch loss. */
  onStep?: (step: number, loss: number) => void | Promise<void>;
}

/** What {@link trainLanguageModel} measured. */
export interface LmTrainingResult {
  /** Loss of the last step (nats per token). */
  finalLoss: number;
  /** Wall time of all steps, ms. */
  ms: number;
  /** Peak tensor memory during one training step (`tf.profile` of the second step), bytes. */
  peakBytes: number;
}

/**
 * Trains a next-token model (ids [b, t] → logits [b, t, V]; a Hugging Face causal LM from the 'hf-text'
 * format too, its attention mask all ones: see {@link lmInputs}) with Adam on random windows of `ids`, updating
 * only the model's trainable weights (so a LoRA model trains its adapters only). The optimizer is disposed
 * at the end. Peak memory is that of one step (forward, backward, update) as `tf.profile` reports it.
 */
export async function trainLanguageModel(
  model: tfl.LayersModel,
  ids: Int32Array,
  options: LmTrainingOptions,
): Promise<LmTrainingResult> {
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const random = seededRandom(options.seed ?? 1);
  // The loss is read asynchronously (`data()`): no synchronous GPU read, so WebGPU in Node works too.
  const step = async (batch: LmBatch): Promise<number> => {
    let cost: tf.Scalar | null = null;
    try {
      cost = optimizer.minimize(
        () => nextTokenLoss(model.apply(lmInputs(model, batch.x), { training: true }) as tf.Tensor, batch.y),
        true,
        vars,
      )!;
      return (await cost.data())[0]!;
    } finally {
      tf.dispose([batch.x, batch.y, ...(cost ? [cost] : [])]);
    }
  };
  let finalLoss = NaN;
  let peakBytes = 0;
  const start = performance.now();
  try {
    for (let i = 1; i <= options.steps; i++) {
      const batch = randomWindows(ids, options.batchSize, options.length, random);
      if (i === 2) {
        const profile = await tf.profile(async () => {
          finalLoss = await step(batch);
        });
        peakBytes = profile.peakBytes;
      } else {
        finalLoss = await step(batch);
      }
      await options.onStep?.(i, finalLoss);
    }
  } finally {
    optimizer.dispose();
  }
  return { finalLoss, ms: performance.now() - start, peakBytes };
}

/** Options of {@link perplexity} and {@link perplexityAsync}. */
export interface PerplexityOptions {
  /** Tokens per window. */
  length: number;
  /** Most windows evaluated (default 256), evenly spaced over the text. */
  maxWindows?: number;
  /** Windows per batch (default 32). */
  batchSize?: number;
}

/** Runs `read` on each batch's mean loss and returns exp(mean NLL) over all windows. */
function perplexityWith<R>(
  model: tfl.LayersModel,
  ids: Int32Array,
  options: PerplexityOptions,
  read: (loss: tf.Scalar, windows: number) => R,
): R[] {
  const offsets = evaluationOffsets(ids.length, options.length, options.maxWindows ?? 256);
  const batchSize = options.batchSize ?? 32;
  const out: R[] = [];
  for (let i = 0; i < offsets.length; i += batchSize) {
    const chunk = offsets.slice(i, i + batchSize);
    const { x, y } = windowsAt(ids, chunk, options.length);
    try {
      const loss = tf.tidy(() => nextTokenLoss(model.predictOnBatch(lmInputs(model, x)) as tf.Tensor, y));
      out.push(read(loss, chunk.length));
    } finally {
      tf.dispose([x, y]);
    }
  }
  return out;
}

/**
 * Perplexity exp(mean NLL) of a next-token model on `ids`: up to `maxWindows` non-overlapping windows of
 * `length` tokens, evenly spaced over the text, evaluated in batches of `batchSize`. Reads each batch's
 * loss synchronously, so cpu, wasm and tensorflow backends only: on webgpu/webgl it throws a LoraError
 * naming {@link perplexityAsync}, which gives the same number on every backend.
 */
export function perplexity(model: tfl.LayersModel, ids: Int32Array, options: PerplexityOptions): number {
  requireSyncRead('perplexity', '`await perplexityAsync(model, ids, options)`');
  let windows = 0;
  const parts = perplexityWith(model, ids, options, (loss, n) => {
    try {
      windows += n;
      return loss.dataSync()[0]! * n;
    } finally {
      loss.dispose();
    }
  });
  return Math.exp(parts.reduce((a, b) => a + b, 0) / windows);
}

/**
 * {@link perplexity} on every backend: the batches are queued on the device and their losses read with
 * `await data()` (no synchronous read, so it runs on WebGPU in Node too). Same number as `perplexity`.
 */
export async function perplexityAsync(
  model: tfl.LayersModel,
  ids: Int32Array,
  options: PerplexityOptions,
): Promise<number> {
  const parts: { loss: tf.Scalar; n: number }[] = [];
  try {
    perplexityWith(model, ids, options, (loss, n) => parts.push({ loss, n }));
    let total = 0;
    let windows = 0;
    for (const { loss, n } of parts) {
      total += (await loss.data())[0]! * n;
      windows += n;
    }
    return Math.exp(total / windows);
  } finally {
    tf.dispose(parts.map((p) => p.loss));
  }
}
