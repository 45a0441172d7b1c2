// Trains LoRA adapters in JS on fixtures/hf/vit-cls (5 Adam steps, cpu backend; test-support/hf-train.ts) and
// writes each with savePeftAdapter, with the logits the JS model gives on the fixture's pixels
// (tfjs-logits.safetensors):
//   js-adapter/     a fresh adapter on query/value + the classifier (keys: the model's layer names, transformers 4's)
//   js-adapter-v5/  the fixture's PEFT adapter made under transformers 5, trained further (keys: its own names)
// Then run scripts/check-js-vit-adapter.py: it loads them in PEFT, compares PEFT's logits with these, and writes
// peft-logits.safetensors beside each, which src/hf/hf-vision-train.test.ts checks the JS model against.
//   npx tsx scripts/train-js-vit-adapter.ts && /tmp/peftenv/bin/python scripts/check-js-vit-adapter.py
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { writeFile } from 'node:fs/promises';
import { savePeftAdapter } from '@tfjs-lora/core';
import { writeSafetensorsAsync } from '@tfjs-lora/core/safetensors';
import { hfFixture, readReference } from '../test-support/hf-fixtures.js';
import { JS_TRAINED_FIXTURE, trainJsVitAdapter } from '../test-support/hf-train.js';

await tf.setBackend('cpu');
for (const [start, folder] of [
  ['fresh', 'js-adapter'],
  ['peft-adapter', 'js-adapter-v5'],
] as const) {
  const { base, lm, losses } = await trainJsVitAdapter(5, start);
  const dir = hfFixture(JS_TRAINED_FIXTURE, folder);
  await savePeftAdapter(lm, dir);
  const ref = readReference(JS_TRAINED_FIXTURE);
  const y = lm.predict(ref['pixel_values']!) as tf.Tensor;
  await writeFile(`${dir}/tfjs-logits.safetensors`, await writeSafetensorsAsync({ logits: y }));
  console.log(`${folder}: loss ${losses.map((l) => l.toFixed(4)).join(' → ')}; adapter in ${dir}`);
  tf.dispose([y, ...Object.values(ref)]);
  lm.dispose();
  base.dispose();
}
