// Trains LoRA adapters in JS on fixtures/hf/vit-cls (5 Adam steps, cpu backend; test-support/hf-train.ts) and
// writes each with savePeftAdapter, with the logits the JS model gives on the fixture's pixels
// (tfjs-logits.safetensors):
//   js-adapter/     a fresh adapter on query/value + the classifier (keys: the model's layer names, transformers 4's)
//   js-adapter-t5/  js-adapter's files passed through vitAdapterForTransformers5 (keys: transformers 5's names)
//   js-adapter-v5/  the fixture's PEFT adapter made under transformers 5, trained further (keys: its own names)
// Then run scripts/check-js-vit-adapter.py: it loads them in PEFT, compares PEFT's logits with these, and writes
// peft-logits.safetensors beside each, which src/hf/hf-vision-train.test.ts checks the JS model against.
//   npx tsx scripts/train-js-vit-adapter.ts && /tmp/peftenv/bin/python scripts/check-js-vit-adapter.py
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { savePeftAdapter } from '@tfjs-lora/core';
import { configText, encodePeftAdapterAsync } from '@tfjs-lora/core/peft';
import { writeSafetensorsAsync } from '@tfjs-lora/core/safetensors';
import { hfFixture, readReference } from '../test-support/hf-fixtures.js';
import { JS_TRAINED_FIXTURE, trainJsVitAdapter } from '../test-support/hf-train.js';
import { vitAdapterForTransformers5 } from '../src/hf/transformers5-adapter.js';

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
  if (start === 'fresh') {
    const t5 = hfFixture(JS_TRAINED_FIXTURE, 'js-adapter-t5');
    const files = vitAdapterForTransformers5(await encodePeftAdapterAsync(lm));
    await mkdir(t5, { recursive: true });
    await writeFile(`${t5}/adapter_model.safetensors`, files.weights);
    await writeFile(`${t5}/adapter_config.json`, configText(files.config));
    await cp(`${dir}/tfjs-logits.safetensors`, `${t5}/tfjs-logits.safetensors`);
  }
  console.log(`${folder}: loss ${losses.map((l) => l.toFixed(4)).join(' → ')}; adapter in ${dir}`);
  tf.dispose([y, ...Object.values(ref)]);
  lm.dispose();
  base.dispose();
}
