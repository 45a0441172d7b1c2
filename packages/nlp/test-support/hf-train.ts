// Training a LoRA adapter in JS on a Hugging Face fixture model, the same way in the test
// (src/hf/hf-train.test.ts) and in scripts/train-js-adapter.ts (which writes fixtures/hf/<name>/js-adapter/
// for scripts/check-js-adapter.py to load in PEFT).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, createTrainStep, loadPretrained, type LoraModel } from '@tfjs-lora/core';
import { feeds, hfFixture, readReference } from './hf-fixtures.js';
import '../src/register-on-import.js';

/** The fixtures trained in JS and the LoRA config of each. */
export const JS_TRAINED = {
  'gpt2-lm': { r: 4, loraAlpha: 8, targetModules: ['c_attn', 'c_fc'] },
  'bert-cls': { r: 4, loraAlpha: 16, targetModules: ['query', 'value'], modulesToSave: ['classifier'] },
} as const;

/** A fixture with a LoRA config in {@link JS_TRAINED}. */
export type JsTrainedFixture = keyof typeof JS_TRAINED;

/** Targets for the reference inputs: one-hot next ids (LM) or labels 0, 1, ... (classifier). */
function targets(model: tfl.LayersModel, ref: Record<string, tf.Tensor>): tf.Tensor {
  const classes = model.outputs[0]!.shape.at(-1)!;
  return tf.tidy(() => {
    const ids = ref['input_ids']!;
    if (model.outputs[0]!.shape.length === 3) return tf.oneHot(tf.reverse(ids, 1), classes);
    return tf.oneHot(tf.tensor1d([0, 1], 'int32'), classes);
  });
}

/** Loads the fixture's base model, adds a LoRA adapter (seeded) and trains it `steps` Adam steps; returns the losses. */
export async function trainJsAdapter(
  fixture: JsTrainedFixture,
  steps: number,
): Promise<{ base: tfl.LayersModel; lm: LoraModel; losses: number[] }> {
  const base = (await loadPretrained(hfFixture(fixture))) as tfl.LayersModel;
  const lm = applyLora(base, { ...JS_TRAINED[fixture], loraDropout: 0 }, { seed: 7 });
  const ref = readReference(fixture);
  const y = targets(base, ref);
  const optimizer = tf.train.adam(0.02);
  const step = createTrainStep(lm, {
    optimizer,
    loss: (yTrue, logits) => tf.losses.softmaxCrossEntropy(yTrue, logits),
  });
  const losses: number[] = [];
  try {
    for (let i = 0; i < steps; i++) losses.push(await step(feeds(base, ref), y));
  } finally {
    optimizer.dispose();
    tf.dispose([y, ...Object.values(ref)]);
  }
  return { base, lm, losses };
}
