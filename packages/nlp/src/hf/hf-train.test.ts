// Training on a loaded Hugging Face model and handing the adapter back to PEFT: a few JS training steps lower
// the loss, savePeftAdapter's files reload into a fresh model with the same logits, and the adapters trained
// in JS (fixtures/hf/*/js-adapter, scripts/train-js-adapter.ts) give the logits PEFT 0.21 computed with them
// (js-adapter/peft-logits.safetensors, scripts/check-js-adapter.py).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLora, loadPeftAdapter, loadPretrained, savePeftAdapter } from '@tfjs-lora/core';
import { readSafetensorsFile, trainedAdapterRoundTrip } from '@tfjs-lora/test-support';
import { feeds, hfFixture, maskedMaxDiff, readReference } from '../../test-support/hf-fixtures.js';
import { JS_TRAINED, trainJsAdapter, type JsTrainedFixture } from '../../test-support/hf-train.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const fixtures = Object.keys(JS_TRAINED) as JsTrainedFixture[];

describe.each(fixtures)('LoRA training on %s', (fixture) => {
  it('lowers the loss, and savePeftAdapter’s files reload into a fresh model with the same logits', async () => {
    const before = tf.memory().numTensors;
    const { losses, reloaded, untrained } = await trainedAdapterRoundTrip({
      peft: { applyLora, loadPeftAdapter, savePeftAdapter },
      train: () => trainJsAdapter(fixture, 4),
      reference: () => readReference(fixture),
      inputs: feeds,
      loadBase: async () => (await loadPretrained(hfFixture(fixture))) as tfl.LayersModel,
      diff: (actual, trained, ref) => maskedMaxDiff(actual, trained, ref['attention_mask']!),
    });
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.8);
    expect(reloaded).toBeLessThan(1e-6);
    expect(untrained).toBeGreaterThan(0.1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the committed JS-trained adapter gives the logits PEFT computes with it', async () => {
    const model = (await loadPretrained(hfFixture(fixture))) as tfl.LayersModel;
    const adapter = await loadPeftAdapter(hfFixture(fixture, 'js-adapter'));
    const lm = applyLora(model, adapter);
    adapter.dispose();
    const ref = readReference(fixture);
    const peft = readSafetensorsFile(hfFixture(fixture, 'js-adapter', 'peft-logits.safetensors'));
    const y = lm.predict(feeds(model, ref)) as tf.Tensor;
    const diff = await maskedMaxDiff(y, peft['logits']!, ref['attention_mask']!);
    const moved = await maskedMaxDiff(peft['logits']!, ref['logits']!, ref['attention_mask']!);
    tf.dispose([y, ...Object.values(ref), ...Object.values(peft)]);
    lm.dispose();
    model.dispose();
    expect(moved).toBeGreaterThan(0.1); // the adapter matters
    expect(diff).toBeLessThan(1e-4);
  });
});
