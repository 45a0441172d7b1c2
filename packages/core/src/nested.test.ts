import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { LoraLayer } from './lora-layer.js';
import { applyLora } from './apply-lora.js';

describe('nested models', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('targets a Dense inside a nested Sequential by its dotted path', async () => {
    const inner = tfl.sequential({
      name: 'encoder',
      layers: [tfl.layers.dense({ name: 'enc_fc', units: 6, inputShape: [4], activation: 'relu' })],
    });
    const input = tfl.input({ shape: [4] });
    const h = inner.apply(input) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ name: 'cls', units: 2 }).apply(h) as tfl.SymbolicTensor;
    const base = tfl.model({ inputs: input, outputs: out });
    const lm = applyLora(base, { targetModules: ['encoder.enc_fc'], r: 2, initLoraWeights: false });
    expect(lm.loraLayers().map((l) => l.path)).toEqual(['encoder.enc_fc']);
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 9);
    const y0 = base.predict(x) as tf.Tensor;
    const off = lm.withAdaptersDisabled(() => lm.model.predict(x) as tf.Tensor);
    expect(maxAbsDiff(off, y0)).toBe(0);
    const on = lm.model.predict(x) as tf.Tensor;
    expect(maxAbsDiff(on, y0)).toBeGreaterThan(1e-4);
    expect(lm.model.trainableWeights.map((w) => w.originalName).sort()).toEqual([
      'enc_fc/lora_A.default',
      'enc_fc/lora_B.default',
    ]);
    const plain = lm.mergeAndUnload();
    const merged = plain.predict(x) as tf.Tensor;
    expect(maxAbsDiff(merged, on)).toBeLessThan(1e-5);
    expect(walk(plain).some((l) => l instanceof LoraLayer)).toBe(false);
    tf.dispose([x, y0, off, on, merged]);
    plain.dispose();
    lm.dispose();
    base.dispose();
  });
});

function walk(m: { layers?: tfl.layers.Layer[] }): tfl.layers.Layer[] {
  return (m.layers ?? []).flatMap((l) => [l, ...walk(l as { layers?: tfl.layers.Layer[] })]);
}
