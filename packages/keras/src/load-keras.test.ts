// Keras 3.15's own outputs (scripts/make-fixtures.py) against the loaded tfjs model, on cpu and wasm.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tfjs-lora/core';
import { describe, expect, it } from 'vitest';
import { loadKerasModel } from './index.js';
import { readFileSync } from 'node:fs';
import { FIXTURES, kerasBytes, kerasIo, maxAbsDiff } from '../test-support/fixtures.js';

const ARCHITECTURES = ['mobilenet_v2', 'residual', 'separable', 'recurrent', 'layer_norm'];

async function activate(backend: 'cpu' | 'wasm'): Promise<string | null> {
  try {
    if (backend === 'wasm') await import('@tfjs-lora/backend-wasm');
    await useBackend(backend);
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`loadKerasModel against Keras 3.15 (${backend})`, () => {
    for (const name of ARCHITECTURES) {
      it(`${name}: same outputs as Keras within 1e-4`, async (ctx) => {
        const why = await activate(backend);
        if (why !== null) {
          console.warn(`skipped on ${backend}: ${why}`);
          ctx.skip();
        }
        expect(tf.getBackend()).toBe(backend);
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
}

describe('legacy .h5 models (model.save("m.h5"))', () => {
  for (const name of ['separable', 'residual']) {
    it(`${name}_legacy.h5: the same outputs as Keras within 1e-4`, async () => {
      await useBackend('cpu');
      const model = await loadKerasModel(new Uint8Array(readFileSync(`${FIXTURES}${name}_legacy.h5`)));
      const { inputs, outputs } = kerasIo(name);
      const got = model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor | tf.Tensor[];
      const list = Array.isArray(got) ? got : [got];
      for (const [i, y] of list.entries()) expect(await maxAbsDiff(y, outputs[i]!)).toBeLessThan(1e-4);
      tf.dispose([...inputs, ...outputs, ...list]);
      model.dispose();
    });
  }
});

describe('what the converted model keeps of Keras', () => {
  it("layer names, trainable counts and the LSTM unit_forget_bias flag are Keras's", async () => {
    await useBackend('cpu');
    const model = await loadKerasModel(kerasBytes('recurrent'));
    expect(model.layers.map((l) => l.name)).toEqual(['tokens', 'embed', 'lstm', 'bigru', 'per_step', 'gru', 'head']);
    expect(model.countParams()).toBe(733); // Keras's count_params() for this model
    const lstm = model.getLayer('lstm').getConfig();
    expect(lstm['unitForgetBias']).toBe(true);
    model.dispose();
    const mobilenet = await loadKerasModel(kerasBytes('mobilenet_v2'));
    expect(mobilenet.countParams()).toBe(423018);
    mobilenet.dispose();
  });
});
