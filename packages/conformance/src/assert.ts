// Assertions that work without a test framework (the same checks run in a browser page), reading
// tensors asynchronously: tfjs-backend-webgpu cannot read synchronously in Node.
import * as tf from '@tensorflow/tfjs-core';
import { ConformanceFailure } from './types.js';

/** max |a − b| over all elements; the shapes must match. */
export async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor, what: string): Promise<number> {
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new ConformanceFailure(`${what}: expected shape [${b.shape}], found [${a.shape}]`);
  }
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.cast(a, 'float32'), tf.cast(b, 'float32')))));
  const v = (await d.data())[0];
  d.dispose();
  return v;
}

/** The comparison of a check that came closest to its tolerance (largest |Δ| / tol). */
export interface Closest {
  /** What was compared. */
  what: string;
  /** max |Δ| measured. */
  diff: number;
  /** The tolerance it was held to. */
  tol: number;
}

let closest: Closest | null = null;

/** Starts recording the closest comparison (one check at a time). */
export function startRecording(): void {
  closest = null;
}

/** The closest comparison since {@link startRecording}, or null when none was made. */
export function closestComparison(): Closest | null {
  return closest;
}

/** Records a comparison made outside {@link expectClose} (e.g. a relative one). */
export function recordComparison(what: string, diff: number, tol: number): void {
  if (tol > 0 && (!closest || diff / tol > closest.diff / closest.tol)) closest = { what, diff, tol };
}

/**
 * Throws unless max |actual − expected| ≤ tol (NaN never passes). With `scaleAbove1` the difference is
 * measured in units of max(1, max |expected|): absolute for values below 1, relative above, where one
 * float32 ulp exceeds an absolute budget (conv2d gradients reach ~100, ulp 8e-6).
 */
export async function expectClose(
  actual: tf.Tensor,
  expected: tf.Tensor,
  tol: number,
  what: string,
  options: { scaleAbove1?: boolean } = {},
): Promise<number> {
  let diff = await maxAbsDiff(actual, expected, what);
  let unit = '';
  if (options.scaleAbove1) {
    const m = tf.tidy(() => tf.max(tf.abs(tf.cast(expected, 'float32'))));
    const scale = Math.max(1, (await m.data())[0]);
    m.dispose();
    diff /= scale;
    if (scale > 1) unit = ` (in units of max |expected| = ${scale.toPrecision(4)})`;
  }
  recordComparison(what, diff, tol);
  if (!(diff <= tol))
    throw new ConformanceFailure(
      `${what}: max |Δ| = ${diff.toExponential(3)}${unit} exceeds the tolerance ${tol} on '${tf.getBackend()}'`,
    );
  return diff;
}

/** Throws unless every element of the two arrays is identical (bit-exact, NaN equal to NaN). */
export function expectIdentical(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  if (actual.length !== expected.length)
    throw new ConformanceFailure(`${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      throw new ConformanceFailure(
        `${what}: element ${i} is ${actual[i]}, expected exactly ${expected[i]} (not bit-exact)`,
      );
    }
  }
}

/** Throws unless tf.memory().numTensors is back to `before`. */
export function expectNoLeak(before: number, what: string): void {
  const now = tf.memory().numTensors;
  if (now !== before)
    throw new ConformanceFailure(
      `${what}: ${now - before} tensor(s) leaked (numTensors ${before} → ${now}) on '${tf.getBackend()}'`,
    );
}

/** Throws with `message` unless `ok`. */
export function expectTrue(ok: boolean, message: string): void {
  if (!ok) throw new ConformanceFailure(message);
}

export { seededValues } from '@tfjs-lora/core/random';
