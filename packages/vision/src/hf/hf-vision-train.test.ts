// Training on a loaded Hugging Face ViT and handing the adapter back to PEFT: a few JS training steps lower
// the loss, savePeftAdapter's files reload into a fresh model with the same logits, and the adapters trained
// in JS (fixtures/hf/vit-cls/js-adapter*, scripts/train-js-vit-adapter.ts) give the logits PEFT 0.21 computed
// with them (peft-logits.safetensors, scripts/check-js-vit-adapter.py: max diff 9.5e-7 for js-adapter-v5, which
// PEFT loads as saved; 4.8e-7 for js-adapter, whose transformers 4 names PEFT under transformers 5 loads only
// after renaming, and for js-adapter-t5, the same renamed by vitAdapterForTransformers5, loaded as saved).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLora, loadPeftAdapter, loadPretrained, savePeftAdapter } from '@tfjs-lora/core';
import { readSafetensorsFile, trainedAdapterRoundTrip } from '@tfjs-lora/test-support';
import { hfFixture, maxAbsDiff, readReference } from '../../test-support/hf-fixtures.js';
import { JS_TRAINED_FIXTURE, trainJsVitAdapter } from '../../test-support/hf-train.js';
import { tryBackend } from '../../test-support/backend.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('LoRA training on a Hugging Face ViT', () => {
  it.each(['fresh', 'peft-adapter'] as const)(
    'lowers the loss (%s start); savePeftAdapter’s files reload into a fresh model with the same logits',
    async (start) => {
      const before = tf.memory().numTensors;
      const { losses, reloaded, untrained } = await trainedAdapterRoundTrip({
        peft: { applyLora, loadPeftAdapter, savePeftAdapter },
        train: () => trainJsVitAdapter(4, start),
        reference: () => readReference(JS_TRAINED_FIXTURE),
        inputs: (_base, ref) => ref['pixel_values']!,
        loadBase: async () => (await loadPretrained(hfFixture(JS_TRAINED_FIXTURE))) as tfl.LayersModel,
        diff: maxAbsDiff,
      });
      expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.8);
      expect(reloaded).toBeLessThan(1e-6);
      expect(untrained).toBeGreaterThan(0.1);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('trains on wasm too, with the cpu backend’s losses', async () => {
    const why = await tryBackend('wasm');
    if (why !== null) {
      console.warn(`SKIP ViT training on wasm: ${why}`);
      await tf.setBackend('cpu');
      return;
    }
    try {
      const before = tf.memory().numTensors;
      const wasm = await trainJsVitAdapter(3);
      wasm.lm.dispose();
      wasm.base.dispose();
      expect(tf.memory().numTensors).toBe(before);
      await tf.setBackend('cpu');
      const cpu = await trainJsVitAdapter(3);
      cpu.lm.dispose();
      cpu.base.dispose();
      for (const [i, l] of wasm.losses.entries()) expect(Math.abs(l - cpu.losses[i]!)).toBeLessThan(1e-4);
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it.each(['js-adapter', 'js-adapter-t5', 'js-adapter-v5'])(
    'the committed JS-trained %s gives the logits PEFT computes with it',
    async (name) => {
      const model = (await loadPretrained(hfFixture(JS_TRAINED_FIXTURE))) as tfl.LayersModel;
      const adapter = await loadPeftAdapter(hfFixture(JS_TRAINED_FIXTURE, name));
      const lm = applyLora(model, adapter);
      adapter.dispose();
      const ref = readReference(JS_TRAINED_FIXTURE);
      const peft = readSafetensorsFile(hfFixture(JS_TRAINED_FIXTURE, name, 'peft-logits.safetensors'));
      const y = lm.predict(ref['pixel_values']!) as tf.Tensor;
      const diff = await maxAbsDiff(y, peft['logits']!);
      const moved = await maxAbsDiff(peft['logits']!, ref['logits']!);
      tf.dispose([y, ...Object.values(ref), ...Object.values(peft)]);
      lm.dispose();
      model.dispose();
      expect(moved).toBeGreaterThan(0.1); // the adapter matters
      expect(diff).toBeLessThan(1e-4);
    },
  );
});
