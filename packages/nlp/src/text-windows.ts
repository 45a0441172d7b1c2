// Next-token training windows cut from a token sequence (used by lm-training and generate).
import * as tf from '@tensorflow/tfjs-core';
import { LoraError } from '@tfjs-lora/core';

export { seededRandom } from '@tfjs-lora/core/random';

/** Next-token windows: inputs [batch, length] and targets shifted by one, both int32. */
export interface LmBatch {
  /** Input ids [batch, length]. */
  x: tf.Tensor2D;
  /** Target ids [batch, length]: the inputs shifted left by one token. */
  y: tf.Tensor2D;
}

/** `batchSize` windows of `length + 1` tokens starting at random offsets of `ids`. */
export function randomWindows(ids: Int32Array, batchSize: number, length: number, random: () => number): LmBatch {
  if (ids.length < length + 2) {
    throw new LoraError(
      `The text has ${ids.length} tokens; expected more than ${length + 1} to cut training windows of length ${length}. Use more text or a shorter length.`,
    );
  }
  const starts = Array.from({ length: batchSize }, () => Math.floor(random() * (ids.length - length - 1)));
  return windowsAt(ids, starts, length);
}

/** Windows of `length + 1` tokens at the given offsets. */
export function windowsAt(ids: Int32Array, starts: readonly number[], length: number): LmBatch {
  const x = new Int32Array(starts.length * length);
  const y = new Int32Array(starts.length * length);
  starts.forEach((s, i) => {
    x.set(ids.subarray(s, s + length), i * length);
    y.set(ids.subarray(s + 1, s + length + 1), i * length);
  });
  return { x: tf.tensor2d(x, [starts.length, length], 'int32'), y: tf.tensor2d(y, [starts.length, length], 'int32') };
}

/** Offsets of at most `count` non-overlapping, evenly spaced evaluation windows. */
export function evaluationOffsets(tokens: number, length: number, count: number): number[] {
  const available = Math.floor((tokens - 1) / length);
  const n = Math.min(count, available);
  const stride = Math.floor(available / Math.max(n, 1));
  return Array.from({ length: n }, (_, i) => i * stride * length);
}
