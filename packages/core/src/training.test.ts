// End-to-end LoRA training on real data (cpu backend, fixed seeds, no shuffling: deterministic).
// An MLP 784-64-10 (relu) is pre-trained with full fine-tuning on 2,000 MNIST digits. LoRA (r=4, alpha=8)
// on the hidden Dense layer only is then trained with `fit` on a shifted task, inverted MNIST (1 − x),
// where the base model is near chance. The output Dense layer stays a plain, frozen layer on purpose, so
// the test also covers layers that LoRA does not wrap.
// The model starts with Rescaling(2x − 1) (pixels to [−1, 1], no weights), so inversion flips the sign
// of the input instead of adding a large constant to every hidden unit; without it, LoRA on the hidden
// layer mostly learns to switch ReLUs off and stalls at chance (measured: loss ln 10 in most settings).
// LoRA must beat the base model on held-out inverted digits, leave every frozen weight bit-identical,
// count parameters as the closed form says, and leak no tensors across predict / merge / unmerge.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, mnistTensors } from './data/mnist.js';
import { applyLora } from './apply-lora.js';
import type { LoraModel } from './lora-model.js';

const HIDDEN = 64;
const R = 4;
const TRAIN = 2000;
const TEST = 1000;

interface Split {
  xs: tf.Tensor2D;
  ys: tf.Tensor2D;
}

function buildMlp(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.rescaling({ name: 'rescale', scale: 2, offset: -1, inputShape: [784] }));
  model.add(
    tfl.layers.dense({
      name: 'hidden',
      units: HIDDEN,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  model.add(
    tfl.layers.dense({
      name: 'head',
      units: 10,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  return model;
}

/** Mean cross-entropy and accuracy of a softmax model on a split. */
function evaluate(model: tfl.LayersModel, data: Split): { loss: number; accuracy: number } {
  return tf.tidy(() => {
    const p = model.predict(data.xs) as tf.Tensor2D;
    const loss = tf.mean(tfl.metrics.categoricalCrossentropy(data.ys, p)).dataSync()[0];
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(data.ys, 1)), 'float32')).dataSync()[0];
    return { loss, accuracy };
  });
}

/** A weight's bytes, for exact (bit-level) comparison. */
function bytesOf(w: tfl.LayerVariable): Uint8Array {
  const v = w.read().dataSync() as Float32Array;
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

describe('LoRA training on MNIST → inverted MNIST (cpu)', () => {
  let train: Split;
  let trainInverted: Split;
  let test: Split;
  let testInverted: Split;
  let base: tfl.Sequential;
  let lm: LoraModel;
  let baseOnInverted: { loss: number; accuracy: number };

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const trainData = loadMnist({ split: 'train', limit: TRAIN });
    const testData = loadMnist({ split: 'test', limit: TEST });
    train = mnistTensors(trainData);
    trainInverted = mnistTensors(trainData, { invert: true });
    test = mnistTensors(testData);
    testInverted = mnistTensors(testData, { invert: true });

    base = buildMlp();
    base.compile({ optimizer: tf.train.adam(3e-3), loss: 'categoricalCrossentropy' });
    await base.fit(train.xs, train.ys, { epochs: 4, batchSize: 64, shuffle: false, verbose: 0, yieldEvery: 'never' });
    baseOnInverted = evaluate(base, testInverted);
    lm = applyLora(base, { r: R, loraAlpha: 2 * R, targetModules: ['hidden'] }, { seed: 7 });
  });

  afterAll(() => {
    lm?.dispose();
    base?.dispose();
    for (const s of [train, trainInverted, test, testInverted]) if (s) tf.dispose([s.xs, s.ys]);
  });

  it('pre-trains a base model that reads MNIST but not inverted MNIST', () => {
    expect(evaluate(base, test).accuracy).toBeGreaterThan(0.8);
    expect(baseOnInverted.accuracy).toBeLessThan(0.2);
  });

  it('starts as the base model (B = 0) and counts parameters as the closed form', () => {
    const fresh = evaluate(lm.model, testInverted);
    expect(fresh.loss).toBeCloseTo(baseOnInverted.loss, 4);
    const trainable = R * (784 + HIDDEN); // only 'hidden' is adapted: A [784, r] + B [r, 64]
    expect(base.countParams()).toBe(784 * HIDDEN + HIDDEN + HIDDEN * 10 + 10);
    expect(lm.trainableParameters()).toEqual({
      trainable,
      total: base.countParams() + trainable,
      percent: (100 * trainable) / (base.countParams() + trainable),
    });
    expect(lm.model.trainableWeights.map((w) => w.originalName).sort()).toEqual([
      'hidden/lora_A.default',
      'hidden/lora_B.default',
    ]);
  });

  it('fit trains only the LoRA factors, beats the base model on the new domain, and leaves frozen weights bit-identical', async () => {
    const frozen = lm.model.weights.filter((w) => !w.trainable);
    expect(frozen.map((w) => w.originalName).sort()).toEqual([
      'head/bias',
      'head/kernel',
      'hidden/bias',
      'hidden/kernel',
    ]);
    const before = new Map(frozen.map((w) => [w.originalName, bytesOf(w)]));
    const baseBytes = new Map(base.weights.map((w) => [w.originalName, bytesOf(w)]));
    const expected = lm.trainableParameters();

    const optimizer = tf.train.adam(1e-2); // passed as an object: the caller's to dispose, not the model's
    lm.model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    // Compiling must not change what trains: Sequential.compile() rebuilds its inner model, whose
    // `trainable` setter marks every weight of every plain layer trainable again.
    expect(lm.trainableParameters(), 'trainable parameters after compile()').toEqual(expected);
    expect(lm.model.trainableWeights.map((w) => w.originalName).sort(), 'trainable weights after compile()').toEqual([
      'hidden/lora_A.default',
      'hidden/lora_B.default',
    ]);
    const history = await lm.model.fit(trainInverted.xs, trainInverted.ys, {
      epochs: 5,
      batchSize: 64,
      shuffle: false,
      verbose: 0,
      yieldEvery: 'never',
    });

    const losses = history.history['loss'] as number[];
    expect(losses.at(-1)).toBeLessThan(losses[0]);
    const after = evaluate(lm.model, testInverted);
    expect(after.loss).toBeLessThan(baseOnInverted.loss / 2);
    expect(after.accuracy).toBeGreaterThan(baseOnInverted.accuracy + 0.3);

    const changed = frozen
      .filter((w) => !equalBytes(before.get(w.originalName)!, bytesOf(w)))
      .map((w) => w.originalName);
    expect(changed, 'frozen weights changed by fit').toEqual([]);
    const notBase = frozen
      .filter((w) => !equalBytes(baseBytes.get(w.originalName)!, bytesOf(w)))
      .map((w) => w.originalName);
    expect(notBase, 'frozen weights differ from the base model').toEqual([]);
    expect(lm.trainableParameters()).toEqual(expected);
    optimizer.dispose();
  });

  it('predict, merge and unmerge leak no tensors; merged output matches, unmerge restores bit-exactly', () => {
    const x = tf.slice(testInverted.xs, [0, 0], [64, 784]);
    const kernel = lm.loraLayers()[0].layer.layer.weights.find((w) => w.originalName === 'hidden/kernel')!;
    const kernelBefore = bytesOf(kernel);
    const start = tf.memory().numTensors;

    const unmerged = lm.model.predict(x) as tf.Tensor;
    lm.merge();
    const merged = lm.model.predict(x) as tf.Tensor;
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(unmerged, merged))).dataSync()[0]);
    lm.unmerge();
    tf.dispose([unmerged, merged]);

    expect(tf.memory().numTensors).toBe(start);
    expect(diff).toBeLessThan(1e-5);
    expect(equalBytes(bytesOf(kernel), kernelBefore)).toBe(true);
    x.dispose();
  });
});
