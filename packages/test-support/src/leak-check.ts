// The shared tensor-leak check, a vitest setup file of every package (see vitest.shared.ts at the root): the
// number of live tensors (`tf.memory().numTensors`) must be the same after each test as before it.
// Tensors that several tests use are made in beforeAll and disposed in afterAll, outside this count.
// A test that already failed is not reported again for the tensors its failure left behind.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach } from 'vitest';

/**
 * Live tensors now. Read from the engine's state, which is what `tf.memory().numTensors` returns, without
 * initialising a backend (`tf.memory()` would start one in a test that has not chosen it yet).
 */
export function liveTensors(): number {
  return tf.engine().state.numTensors;
}

let before = 0;

beforeEach(() => {
  before = liveTensors();
});

afterEach((context) => {
  if (context.task.result?.state === 'fail') return;
  const after = liveTensors();
  if (after !== before) {
    const change = after - before;
    throw new Error(
      `tensor leak check: ${before} live tensors before this test, ${after} after it ` +
        `(${change > 0 ? `${change} left undisposed` : `${-change} disposed that the test did not create`}). ` +
        'Dispose what the test creates (tf.tidy, dispose()); keep tensors shared by several tests in beforeAll/afterAll.',
    );
  }
});
