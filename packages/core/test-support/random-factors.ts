// Random LoRA factors for core's tests: an adapter fresh from applyLora has B = 0 (ΔW = 0), so tests of merging,
// weighting and saving give every factor seeded random values first.
import * as tf from '@tensorflow/tfjs-core';
import type { LoraModel } from '../src/lora-model.js';

/**
 * Writes seeded normal values (mean 0, standard deviation `stddev`) into the A and B factors of every adapter of
 * every LoRA layer of `lm`, in `loraLayers()` then `adapterNames` order, A before B, the seeds counting up from
 * `seed` (the same values on every run).
 */
export function randomiseAdapters(lm: LoraModel, seed: number, stddev: number): void {
  let s = seed;
  for (const { layer } of lm.loraLayers()) {
    for (const name of layer.adapterNames) {
      const w = layer.weightsOf(name);
      tf.tidy(() => {
        w.loraA.write(tf.randomNormal(w.loraA.shape as number[], 0, stddev, 'float32', s++));
        w.loraB.write(tf.randomNormal(w.loraB.shape as number[], 0, stddev, 'float32', s++));
      });
    }
  }
}
