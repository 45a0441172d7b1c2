// Mixed-adapter batches through convolution layers (core's LoRA layer; a Conv2D kind has no per-row math of its
// own, so core composes one masked term per adapter): each row must equal that row run alone with its adapter
// set active (or with adapters disabled for '__base__').
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, BASE_ADAPTER, LoraConfigError, predictWithAdapters, type LoraModel } from '@tfjs-lora/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import './register-on-import.js';

/** Row i of `x` through `lm` alone, with adapter `name` active (`'__base__'`: adapters disabled). */
function rowAlone(lm: LoraModel, x: tf.Tensor, i: number, name: string): tf.Tensor {
  const row = tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]);
  const run = () => lm.model.predictOnBatch(row) as tf.Tensor;
  try {
    if (name === BASE_ADAPTER) return lm.withAdaptersDisabled(run);
    lm.setAdapter(name);
    return run();
  } finally {
    row.dispose();
  }
}

describe('mixed-adapter batches on Conv2D layers (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('each row equals that row alone with its adapter active (two Conv2D kinds, a Dense head, a base row)', () => {
    const base = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ name: 'conv', filters: 6, kernelSize: 3, padding: 'same', inputShape: [5, 5, 3] }),
        tfl.layers.conv2d({ name: 'pw', filters: 4, kernelSize: 1, activation: 'relu' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ name: 'head', units: 3 }),
      ],
    });
    const lm = applyLora(
      base,
      { r: 2, targetModules: ['conv', 'pw', 'head'], initLoraWeights: false },
      { adapterName: 'a', seed: 1 },
    );
    lm.addAdapter('b', { r: 3, loraAlpha: 6, targetModules: ['conv'], initLoraWeights: false }, { seed: 2 });
    lm.addAdapter('c', { r: 1, useRslora: true, targetModules: ['pw', 'head'], initLoraWeights: false }, { seed: 3 });
    const names = ['b', 'a', BASE_ADAPTER, 'c', 'a', 'b'];
    const x = tf.randomNormal([names.length, 5, 5, 3], 0, 1, 'float32', 4);
    const before = tf.memory().numTensors;
    const mixed = predictWithAdapters(lm, x, names) as tf.Tensor;
    expect(mixed.shape).toEqual([names.length, 3]);
    names.forEach((name, i) => {
      const alone = rowAlone(lm, x, i, name);
      const row = tf.slice(mixed, [i, 0], [1, -1]);
      expect(maxAbsDiff(row, alone), `row ${i} (${name})`).toBeLessThan(1e-5);
      tf.dispose([alone, row]);
    });
    const [withA, withoutA] = [rowAlone(lm, x, 1, 'a'), rowAlone(lm, x, 1, BASE_ADAPTER)];
    expect(maxAbsDiff(withA, withoutA)).toBeGreaterThan(1e-3); // the adapters do change the rows that use them
    tf.dispose([withA, withoutA]);
    lm.setAdapter('a');
    tf.tidy(() => {
      const plainA = tf.slice(lm.model.predictOnBatch(x) as tf.Tensor, [1, 0], [1, -1]);
      expect(maxAbsDiff(plainA, tf.slice(mixed, [1, 0], [1, -1]))).toBeLessThan(1e-5);
    });
    mixed.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(lm.loraLayers().every(({ layer }) => layer.mixedBatch === null)).toBe(true);
    x.dispose();
    lm.dispose();
    base.dispose();
  });

  it('refuses DoRA on a Conv2D in a mixed batch, saying what to do', () => {
    const base = tfl.sequential({
      layers: [tfl.layers.conv2d({ name: 'conv', filters: 2, kernelSize: 3, inputShape: [4, 4, 1] })],
    });
    const lm = applyLora(base, { r: 1, targetModules: ['conv'], useDora: true });
    const x = tf.zeros([2, 4, 4, 1]);
    expect(() => predictWithAdapters(lm, x, ['default', BASE_ADAPTER])).toThrow(LoraConfigError);
    expect(() => predictWithAdapters(lm, x, ['default', BASE_ADAPTER])).toThrow(/setAdapter/);
    x.dispose();
    lm.dispose();
    base.dispose();
  });
});
