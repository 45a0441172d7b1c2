// Writes the tfjs side of the Python interop check into test-support/interop/ (run from packages/core):
//   npx tsx scripts/write-interop-files.ts && /tmp/peftenv/bin/python scripts/python-interop.py
// js-written.safetensors: every dtype via encodeSafetensors. tfjs-trained/: two adapters trained here and
// saved with savePeftAdapter, the base weights in PyTorch layout, and our outputs for each adapter.
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import {
  interopBase,
  interopInput,
  jsWrittenInputs,
  trainInteropAdapters,
  INTEROP_DIR,
} from '../test-support/interop-data.js';
import { encodeSafetensors, findPeftWeightLayout, savePeftAdapter, writeSafetensors } from '../src/index.js';
import { paramToPeft } from '../src/peft/weight-layouts.js';

const dir = fileURLToPath(INTEROP_DIR);
await tf.setBackend('cpu');
mkdirSync(join(dir, 'tfjs-trained'), { recursive: true });
writeFileSync(join(dir, 'js-written.safetensors'), encodeSafetensors(jsWrittenInputs(), { format: 'pt' }));

const base = interopBase();
const baseTensors: Record<string, tf.Tensor> = {};
for (const layer of base.layers) {
  const layout = findPeftWeightLayout(layer.getClassName())!;
  for (const [param, pl] of Object.entries(layout.params)) {
    const w = layer.weights.find((v) => v.originalName.endsWith(`/${pl.weight}`));
    if (w) baseTensors[`${layer.name}.${param}`] = paramToPeft(pl, w.read());
  }
}
writeFileSync(join(dir, 'tfjs-trained', 'base.safetensors'), writeSafetensors(baseTensors, { format: 'pt' }));
const lm = await trainInteropAdapters(base);
await savePeftAdapter(lm, join(dir, 'tfjs-trained', 'adapter'));
const x = interopInput();
const io: Record<string, tf.Tensor> = { input: x, 'output.default': lm.model.predict(x) as tf.Tensor };
lm.setAdapter('other');
io['output.other'] = lm.model.predict(x) as tf.Tensor;
io['output.base'] = lm.withAdaptersDisabled(() => lm.model.predict(x) as tf.Tensor);
lm.setAdapter('default');
const merged = lm.mergeAndUnload();
for (const layer of merged.layers) io[`merged.${layer.name}.weight`] = tf.transpose(layer.getWeights()[0]!);
writeFileSync(join(dir, 'tfjs-trained', 'io.safetensors'), writeSafetensors(io, { format: 'pt' }));
console.log(`wrote ${dir}`);
