// Training a LoRA adapter in JS on the ViT fixture, the same way in the test (src/hf/hf-vision-train.test.ts)
// and in scripts/train-js-vit-adapter.ts (which writes fixtures/hf/vit-cls/js-adapter*/ for
// scripts/check-js-vit-adapter.py to load in PEFT). Two starts: a fresh adapter made in JS (saved under the
// model's layer names, transformers 4's), or the PEFT adapter made under transformers 5 (fixtures/hf/vit-cls/
// adapter/), trained further (saved under its own names, transformers 5's).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, createTrainStep, loadPeftAdapter, loadPretrained, type LoraModel } from '@tfjs-lora/core';
import { hfFixture, readReference } from './hf-fixtures.js';
import '../src/register-on-import.js';

/** The fixture trained in JS and its LoRA config (the attention projections, and a fully trained head). */
export const JS_TRAINED_FIXTURE = 'vit-cls';
/** LoRA config of the JS-trained adapter. */
export const JS_TRAINED_CONFIG = {
  r: 4,
  loraAlpha: 8,
  targetModules: ['query', 'value'],
  modulesToSave: ['classifier'],
  loraDropout: 0,
} as const;

/** How the trained adapter starts: made in JS, or the transformers 5 PEFT adapter of the fixture. */
export type JsTrainingStart = 'fresh' | 'peft-adapter';

/** Loads the fixture's base model, adds or loads a LoRA adapter, trains `steps` Adam steps towards labels 2, 0. */
export async function trainJsVitAdapter(
  steps: number,
  start: JsTrainingStart = 'fresh',
): Promise<{ base: tfl.LayersModel; lm: LoraModel; losses: number[] }> {
  const base = (await loadPretrained(hfFixture(JS_TRAINED_FIXTURE))) as tfl.LayersModel;
  let lm: LoraModel;
  if (start === 'fresh') {
    lm = applyLora(base, JS_TRAINED_CONFIG, { seed: 7 });
  } else {
    const adapter = await loadPeftAdapter(hfFixture(JS_TRAINED_FIXTURE, 'adapter'));
    lm = applyLora(base, adapter);
    adapter.dispose();
  }
  const ref = readReference(JS_TRAINED_FIXTURE);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([2, 0], 'int32'), base.outputs[0]!.shape.at(-1)!));
  const optimizer = tf.train.adam(0.02);
  const step = createTrainStep(lm, {
    optimizer,
    loss: (yTrue, logits) => tf.losses.softmaxCrossEntropy(yTrue, logits),
  });
  const losses: number[] = [];
  try {
    for (let i = 0; i < steps; i++) losses.push(await step(ref['pixel_values']!, y));
  } finally {
    optimizer.dispose();
    tf.dispose([y, ...Object.values(ref)]);
  }
  return { base, lm, losses };
}
