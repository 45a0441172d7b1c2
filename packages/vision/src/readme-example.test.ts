// The README example, as written there: LoRA in a Conv2D, a DepthwiseConv2D, a pointwise Conv2D and the
// head; its parameter count (closed form below), a few training steps, and mergeAndUnload.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, useBackend } from '@tfjs-lora/core';
import { expect, it } from 'vitest';
import './index.js';

it('README example', async () => {
  await useBackend('cpu');
  const base = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ name: 'conv1', filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
      tfl.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, activation: 'relu' }),
      tfl.layers.conv2d({ name: 'pw', filters: 64, kernelSize: 1, activation: 'relu' }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dense({ name: 'head', units: 10, activation: 'softmax' }),
    ],
  });
  const lora = applyLora(base, { r: 4, loraAlpha: 8, targetModules: 'conv1|dw|pw|head' });
  // conv1 4·(9+32), dw 4·(9+32), pw 4·(32+64), head 4·(64+10); base 320 + 320 + 2,112 + 650
  expect(lora.trainableParameters()).toEqual({ trainable: 1_008, total: 4_410, percent: (100 * 1_008) / 4_410 });
  const optimizer = tf.train.adam(1e-3); // the README passes it inline; here it is kept to dispose its state
  lora.model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const xs = tf.randomUniform([8, 28, 28, 1]);
  const ys = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        [...Array(8).keys()].map((i) => i % 10),
        'int32',
      ),
      10,
    ),
  );
  await lora.model.fit(xs, ys, { epochs: 1, batchSize: 8, verbose: 0 });
  const merged = lora.mergeAndUnload(); // plain Conv2D / DepthwiseConv2D / Dense layers, ΔW folded in
  expect(merged.layers.map((l) => l.getClassName())).toEqual([
    'Conv2D',
    'DepthwiseConv2D',
    'Conv2D',
    'GlobalAveragePooling2D',
    'Dense',
  ]);
  const d = tf.tidy(
    () => tf.max(tf.abs(tf.sub(merged.predict(xs) as tf.Tensor, lora.model.predict(xs) as tf.Tensor))).dataSync()[0],
  );
  expect(d).toBeLessThan(1e-5);
  tf.dispose([xs, ys]);
  optimizer.dispose();
  merged.dispose();
  lora.dispose();
  base.dispose();
});
