// Trains a LoRA adapter in JS on each fixture of test-support/hf-train.ts (5 Adam steps, cpu backend) and
// writes it with savePeftAdapter to fixtures/hf/<name>/js-adapter/, with the logits the JS model gives on the
// fixture's inputs (js-adapter/tfjs-logits.safetensors). Then run scripts/check-js-adapter.py: it loads each
// adapter in PEFT, compares PEFT's logits with these, and writes js-adapter/peft-logits.safetensors, which
// src/hf/hf-train.test.ts checks the JS model against.
//   npx tsx scripts/train-js-adapter.ts && /tmp/peftenv/bin/python scripts/check-js-adapter.py
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { writeFile } from 'node:fs/promises';
import { savePeftAdapter } from '@tfjs-lora/core';
import { writeSafetensorsAsync } from '@tfjs-lora/core/safetensors';
import { feeds, hfFixture, readReference } from '../test-support/hf-fixtures.js';
import { JS_TRAINED, trainJsAdapter, type JsTrainedFixture } from '../test-support/hf-train.js';

await tf.setBackend('cpu');
for (const fixture of Object.keys(JS_TRAINED) as JsTrainedFixture[]) {
  const { base, lm, losses } = await trainJsAdapter(fixture, 5);
  const dir = hfFixture(fixture, 'js-adapter');
  await savePeftAdapter(lm, dir);
  const ref = readReference(fixture);
  const y = lm.predict(feeds(base, ref)) as tf.Tensor;
  await writeFile(`${dir}/tfjs-logits.safetensors`, await writeSafetensorsAsync({ logits: y }));
  console.log(`${fixture}: loss ${losses.map((l) => l.toFixed(4)).join(' → ')}; adapter in ${dir}`);
  tf.dispose([y, ...Object.values(ref)]);
  lm.dispose();
  base.dispose();
}
