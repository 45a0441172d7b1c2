// Every public LoraModel operation leaves tf.memory().numTensors as it found it, once the objects it
// returns are disposed; and the README example's numbers hold.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLora } from './apply-lora.js';

describe('tensor accounting over a LoraModel lifecycle', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('applyLora → adapters → merge → mergeAndUnload → unload → dispose leaks nothing', async () => {
    const base = tfl.sequential({
      layers: [
        tfl.layers.dense({ name: 'fc1', units: 16, activation: 'relu', inputShape: [8] }),
        tfl.layers.dense({ name: 'fc2', units: 16, activation: 'relu' }),
        tfl.layers.dense({ name: 'head', units: 4 }),
      ],
    });
    const before = tf.memory().numTensors;
    const lm = await applyLora(base, {
      targetModules: ['fc1'],
      r: 2,
      modulesToSave: ['head'],
      initLoraWeights: 'pissa',
    });
    lm.addAdapter('b', { targetModules: ['fc1', 'fc2'], r: 3 });
    lm.addAdapter('dora', { targetModules: ['fc2'], r: 2, useDora: true });
    expect(() => lm.addWeightedAdapter(['b', 'dora'], [1, 1], 'bad', 'cat')).toThrow(/DoRA/);
    expect(lm.adapterNames).toEqual(['default', 'b', 'dora']);
    lm.addWeightedAdapter(['default', 'b'], [1, 1], 'mix', 'cat');
    lm.setAdapter(['b', 'dora']);
    lm.merge();
    lm.unmerge();
    const plain = lm.mergeAndUnload();
    const unloaded = lm.unload();
    lm.deleteAdapter('default');
    plain.dispose();
    unloaded.dispose();
    lm.dispose();
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
  });

  it('README example: trainable parameters of r=8 on a 784→64 hidden layer', async () => {
    const base = tfl.sequential({
      layers: [
        tfl.layers.dense({ name: 'hidden', units: 64, activation: 'relu', inputShape: [784] }),
        tfl.layers.dense({ name: 'head', units: 10, activation: 'softmax' }),
      ],
    });
    const lora = applyLora(base, { r: 8, loraAlpha: 16, targetModules: ['hidden'] });
    const p = lora.trainableParameters();
    expect(p.trainable).toBe(8 * (784 + 64));
    expect(p.total).toBe(784 * 64 + 64 + 64 * 10 + 10 + 8 * (784 + 64));
    expect(p.percent).toBeCloseTo(11.76, 2);
    lora.dispose();
    base.dispose();
  });
});
