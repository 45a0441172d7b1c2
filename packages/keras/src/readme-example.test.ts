// The README's example, run as written (the fixture path made absolute).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, loadPretrained, useBackend } from '@tfjs-lora/core';
import { expect, it } from 'vitest';
import './index.js';
import { FIXTURES } from '../test-support/fixtures.js';

it('README example: loadPretrained a .keras file, applyLora, mergeAndUnload', async () => {
  const before = tf.memory().numTensors;
  await useBackend('cpu');
  const model = (await loadPretrained(`${FIXTURES}layer_norm.keras`)) as tfl.LayersModel;
  const lora = applyLora(model, { r: 4, targetModules: ['up', 'down', 'head'] });
  // r·(in + out) for up (10→16), down (16→10), head (10→3)
  expect(lora.trainableParameters().trainable).toBe(4 * (10 + 16) + 4 * (16 + 10) + 4 * (10 + 3));
  const merged = lora.mergeAndUnload();
  expect(merged.layers.map((l) => l.getClassName())).not.toContain('LoraLayer');
  merged.dispose();
  lora.dispose();
  model.dispose();
  expect(tf.memory().numTensors).toBe(before);
});
