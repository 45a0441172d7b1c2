// A plain training loop over an ImageSet (core's `createTrainStep`: the update `trainOnBatch` makes, at
// less overhead per batch), with seeded shuffling, progress per
// batch, wall time, and the peak `tf.memory().numBytes` of a training step; and accuracy.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createTrainStep } from '@tfjs-lora/core';
import { PIXELS, rng, type ImageSet } from './datasets.js';

/** Options of {@link train}. */
export interface TrainOptions {
  /** Passes over the data. */
  epochs: number;
  /** Examples per step. */
  batchSize: number;
  /** Adam's learning rate. */
  learningRate: number;
  /** Seed of the example order. */
  seed: number;
  /** Another optimizer than Adam (e.g. LoRA+). */
  optimizer?: tf.Optimizer;
}

/** One training step done. */
export interface StepInfo {
  /** 1-based epoch. */
  epoch: number;
  /** 1-based step within the epoch. */
  step: number;
  /** Steps per epoch. */
  steps: number;
  /** This step's loss. */
  loss: number;
}

/** What {@link train} measured. */
export interface TrainResult {
  /** Wall time of all steps, seconds. */
  seconds: number;
  /** Largest `tf.memory().numBytes` during the profiled first step (weights, optimizer state, activations). */
  peakBytes: number;
  /** Mean loss of the last epoch. */
  lastEpochLoss: number;
}

/** The batch [b, 28, 28, 1] and one-hot labels [b, 10] of the examples `ids`. */
export function batchOf(data: ImageSet, ids: ArrayLike<number>): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const pixels = new Float32Array(ids.length * PIXELS);
  const labels = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    pixels.set(data.images.subarray(ids[i] * PIXELS, (ids[i] + 1) * PIXELS), i * PIXELS);
    labels[i] = data.labels[ids[i]];
  }
  return tf.tidy(() => ({
    xs: tf.tensor4d(pixels, [ids.length, 28, 28, 1]),
    ys: tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), 'float32') as tf.Tensor2D,
  }));
}

function shuffled(count: number, next: () => number): Uint32Array {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Trains `model` (its trainable weights) with categorical cross-entropy. The first step runs under
 * `tf.profile` to measure the step's peak memory; every step reports through `onStep`. An Adam
 * optimizer made here is disposed at the end.
 */
export async function train(
  model: tfl.LayersModel,
  data: ImageSet,
  opts: TrainOptions,
  onStep?: (s: StepInfo) => void,
): Promise<TrainResult> {
  const optimizer = opts.optimizer ?? tf.train.adam(opts.learningRate);
  const trainStep = createTrainStep(model, { optimizer, loss: 'categoricalCrossentropy' });
  const next = rng(opts.seed);
  const steps = Math.ceil(data.count / opts.batchSize);
  let peakBytes = 0;
  let lastEpochLoss = 0;
  const start = performance.now();
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const order = shuffled(data.count, next);
    let sum = 0;
    for (let step = 1; step <= steps; step++) {
      const { xs, ys } = batchOf(data, order.subarray((step - 1) * opts.batchSize, step * opts.batchSize));
      let loss = 0;
      if (epoch === 1 && step === 1) {
        const info = await tf.profile(async () => {
          loss = await trainStep(xs, ys);
          return [];
        });
        peakBytes = info.peakBytes;
      } else {
        loss = await trainStep(xs, ys);
      }
      tf.dispose([xs, ys]);
      sum += loss;
      onStep?.({ epoch, step, steps, loss });
    }
    lastEpochLoss = sum / steps;
  }
  if (!opts.optimizer) optimizer.dispose(); // its moments; a caller's optimizer stays the caller's
  return { seconds: (performance.now() - start) / 1000, peakBytes, lastEpochLoss };
}

/** Fraction of `data` that `model` classifies correctly (argmax of its output). */
export async function accuracy(model: tfl.LayersModel, data: ImageSet, batchSize = 500): Promise<number> {
  let correct = 0;
  for (let s = 0; s < data.count; s += batchSize) {
    const ids = Uint32Array.from({ length: Math.min(batchSize, data.count - s) }, (_, i) => s + i);
    const { xs, ys } = batchOf(data, ids);
    const hits = tf.tidy(() =>
      tf.sum(tf.cast(tf.equal(tf.argMax(model.predict(xs) as tf.Tensor, -1), tf.argMax(ys, -1)), 'int32')),
    );
    correct += (await hits.data())[0];
    tf.dispose([xs, ys, hits]);
  }
  return correct / data.count;
}
