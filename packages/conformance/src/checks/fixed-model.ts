// A small deterministic LoRA model and data set, identical on every backend (values from a seeded
// generator, not from a backend's random ops), used by the training, merge and leak checks.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, type LoraModel } from '@tfjs-lora/core';
import { seededValues } from '../assert.js';

/** Sizes of the fixed model: 12 → 16 (ReLU) → 4 (softmax), batch of 32. */
export const FIXED = { inputs: 12, hidden: 16, classes: 4, batch: 32 } as const;

/** Writes seeded values into a layer variable (shape taken from it). */
export function fill(v: { shape: (number | null)[]; write(t: tf.Tensor): void }, seed: number, scale: number): void {
  const shape = v.shape as number[];
  tf.tidy(() =>
    v.write(
      tf.tensor(
        seededValues(
          shape.reduce((a, b) => a * b, 1),
          seed,
          scale,
        ),
        shape,
      ),
    ),
  );
}

/** The base MLP 12 → 16 (ReLU) → 4 (softmax) with seeded weights, the same on every backend. */
export function fixedBase(): tfl.LayersModel {
  const base = tfl.sequential({
    layers: [
      tfl.layers.dense({ name: 'hidden', units: FIXED.hidden, activation: 'relu', inputShape: [FIXED.inputs] }),
      tfl.layers.dense({ name: 'head', units: FIXED.classes, activation: 'softmax' }),
    ],
  });
  base.layers.forEach((layer, i) => layer.weights.forEach((w, j) => fill(w, 100 + 10 * i + j, 0.5)));
  return base;
}

/** {@link fixedBase} with LoRA r=4, alpha=8 on both layers, with non-zero B. */
export function fixedLoraModel(): { base: tfl.LayersModel; lm: LoraModel } {
  const base = fixedBase();
  const lm = applyLora(base, { r: 4, loraAlpha: 8, targetModules: ['hidden', 'head'] }, { seed: 1 });
  lm.loraLayers().forEach(({ layer }, i) => {
    const w = layer.weightsOf('default');
    fill(w.loraA, 200 + i, 0.3);
    fill(w.loraB, 300 + i, 0.1);
  });
  return { base, lm };
}

/** Inputs [32, 12] and one-hot labels [32, 4] (class i mod 4). */
export function fixedData(): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const x = tf.tensor2d(seededValues(FIXED.batch * FIXED.inputs, 7), [FIXED.batch, FIXED.inputs]);
  const y = tf.tidy(() => {
    const labels = tf.tensor1d(
      Int32Array.from({ length: FIXED.batch }, (_, i) => i % FIXED.classes),
      'int32',
    );
    return tf.cast(tf.oneHot(labels, FIXED.classes), 'float32') as tf.Tensor2D;
  });
  return { x, y };
}

/** Every LoRA variable's values, in layer order (A then B). */
export async function loraValues(lm: LoraModel): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const { layer } of lm.loraLayers()) {
    const w = layer.weightsOf('default');
    out.push((await w.loraA.read().data()) as Float32Array, (await w.loraB.read().data()) as Float32Array);
  }
  return out;
}
