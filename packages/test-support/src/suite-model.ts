// A model and its reference tensors shared by the tests of one describe block: loaded once, disposed once
// (outside the per-test tensor-leak check, see leak-check.ts).
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from 'vitest';

/** What {@link useModelAndReference} returns: valid inside the block's tests. */
export interface ModelAndReference<M> {
  /** The loaded model (throws when read before beforeAll ran, or in a skipped block). */
  readonly model: M;
  /** The reference tensors by name (same). */
  readonly ref: Record<string, tf.Tensor>;
}

/**
 * For the enclosing describe block: unless `skip`, `load()` and `reference()` run in beforeAll, and the model and
 * every reference tensor are disposed in afterAll.
 */
export function useModelAndReference<M extends { dispose(): void }>(
  skip: boolean,
  load: () => Promise<M>,
  reference: () => Record<string, tf.Tensor>,
): ModelAndReference<M> {
  let loaded: { model: M; ref: Record<string, tf.Tensor> } | undefined;
  beforeAll(async () => {
    if (!skip) loaded = { model: await load(), ref: reference() };
  });
  afterAll(() => {
    if (!loaded) return;
    loaded.model.dispose();
    tf.dispose(Object.values(loaded.ref));
    loaded = undefined;
  });
  const get = (): { model: M; ref: Record<string, tf.Tensor> } => {
    if (!loaded) throw new Error('useModelAndReference: read outside the tests of its describe block (or skipped)');
    return loaded;
  };
  return {
    get model() {
      return get().model;
    },
    get ref() {
      return get().ref;
    },
  };
}
