import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKerasModel } from './index.js';
import { kerasBytes, kerasIo } from './fixtures.js';

const ARCHITECTURES = ['mobilenet_v2', 'residual', 'separable', 'recurrent', 'layer_norm'];

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0]!;
  d.dispose();
  return v;
}

describe('loadKerasModel against Keras 3.15 (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const name of ARCHITECTURES) {
    it(`${name}: same outputs as Keras within 1e-4`, async () => {
      const model = await loadKerasModel(kerasBytes(name));
      const { inputs, outputs } = kerasIo(name);
      const got = model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor | tf.Tensor[];
      const list = Array.isArray(got) ? got : [got];
      expect(list.length).toBe(outputs.length);
      for (const [i, y] of list.entries()) {
        expect(y.shape).toEqual(outputs[i]!.shape);
        expect(await maxAbsDiff(y, outputs[i]!)).toBeLessThan(1e-4);
      }
      tf.dispose([...inputs, ...outputs, ...list]);
      model.dispose();
    });
  }
});
