// Test-only helpers shared by the adapter tests: random non-zero factors, and the merge check.
import * as tf from '@tensorflow/tfjs-core';
import type { LoraModel } from '@tfjs-lora/core';
import { values } from './reference.js';

/** Writes deterministic non-zero values into every adapter's A and B (B starts at zero otherwise). */
export function randomizeFactors(lm: LoraModel, seed = 1, scale = 0.3): void {
  let s = seed;
  for (const { layer } of lm.loraLayers()) {
    for (const name of layer.adapterNames) {
      const w = layer.weightsOf(name);
      for (const v of [w.loraA, w.loraB]) {
        const t = tf.tensor(
          values(tf.util.sizeFromShape(v.shape as number[]), s++).map((x) => x * scale),
          v.shape as number[],
        );
        v.write(t);
        t.dispose();
      }
    }
  }
}

/** Max |merged − unmerged| of the model's output on x; checks that no tensor leaks. */
export function mergedVsUnmerged(lm: LoraModel, x: tf.Tensor): number {
  const before = tf.memory().numTensors;
  const unmerged = lm.model.predict(x) as tf.Tensor;
  lm.merge();
  const merged = lm.model.predict(x) as tf.Tensor;
  lm.unmerge();
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(merged, unmerged))).dataSync()[0]);
  tf.dispose([merged, unmerged]);
  if (tf.memory().numTensors !== before)
    throw new Error(`test: ${tf.memory().numTensors - before} tensors leaked by predict/merge/unmerge`);
  return d;
}

/** Max |a − b| of two tensors (same shape). */
export function tensorDiff(a: tf.Tensor, b: tf.Tensor): number {
  if (!tf.util.arraysEqual(a.shape, b.shape)) throw new Error(`test: shapes differ ${a.shape} vs ${b.shape}`);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
