// LayerNorm against tfjs-layers' LayerNormalization (same values and gradients), without its Tile gradient.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { LayerNorm } from './layer-norm.js';

describe('LayerNorm', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it("equals tfjs-layers' LayerNormalization in value and in every gradient, with no Tile in the backward pass", async () => {
    const x = tf.randomNormal([4, 6, 8], 0, 2, 'float32', 1);
    const ours = new LayerNorm({ epsilon: 1e-5 });
    const stock = tfl.layers.layerNormalization({ epsilon: 1e-5 });
    tf.dispose([ours.apply(x) as tf.Tensor, stock.apply(x) as tf.Tensor]); // builds both
    const params = [tf.randomNormal([8], 1, 0.5, 'float32', 2), tf.randomNormal([8], 0, 0.5, 'float32', 3)];
    ours.setWeights(params);
    stock.setWeights(params);
    const up = tf.randomNormal([4, 6, 8], 0, 1, 'float32', 4);
    const run = (layer: tfl.layers.Layer) =>
      tf.variableGrads(
        () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, up)) as tf.Scalar,
        layer.trainableWeights.map((w) => w.read() as tf.Variable),
      );
    const a = run(ours);
    const b = run(stock);
    expect(Math.abs(a.value.dataSync()[0]! - b.value.dataSync()[0]!)).toBeLessThan(1e-3);
    const [ga, gb] = [Object.values(a.grads), Object.values(b.grads)];
    ga.forEach((g, i) => expect(maxAbsDiff(g, gb[i]!)).toBeLessThan(1e-4));
    const dx = [ours, stock].map((l) => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(l.apply(v) as tf.Tensor, up)))(x));
    expect(maxAbsDiff(dx[0]!, dx[1]!)).toBeLessThan(1e-4);
    const profile = await tf.profile(() => {
      const r = run(ours);
      tf.dispose([r.value, ...Object.values(r.grads)]);
    });
    expect(profile.kernels.filter((k) => k.name === 'Tile' || k.name === 'Slice')).toHaveLength(0);
    tf.dispose([x, up, ...params, a.value, b.value, ...ga, ...gb, ...dx]);
    [ours, stock].forEach((l) => l.dispose());
  });
});
