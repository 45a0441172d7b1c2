// A Hugging Face model, its tokenizer and a PEFT adapter in three lines, then a few training steps and the
// adapter handed back to PEFT. Runs offline on this package's tiny random-weight fixtures; with the Hub, use
// 'hf://org/name' for the model and tokenizer (`cd packages/nlp && npx tsx examples/hugging-face.ts`).
import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-lora/backend-wasm';
import {
  applyLora,
  createTrainStep,
  loadPeftAdapter,
  loadPretrained,
  savePeftAdapter,
  useBackend,
} from '@tfjs-lora/core';
import { loadTokenizer } from '@tfjs-lora/nlp'; // importing it registers the 'hf-text' format
import type { LayersModel } from '@tensorflow/tfjs-layers';

await useBackend('auto');
const fixtures = new URL('../fixtures/hf/', import.meta.url);
const model = (await loadPretrained(new URL('bert-cls/', fixtures))) as LayersModel; // or 'hf://org/name'
const lora = applyLora(model, await loadPeftAdapter(new URL('bert-cls/adapter', fixtures).pathname));
const tokenizer = await loadTokenizer(new URL('tokenizers/wordpiece-small.json', fixtures)); // or 'hf://org/name'

const batch = tokenizer.encodeBatch(['call me ishmael.', 'the lazy dog']);
const inputs = model.inputNames.map((name) => batch[name as keyof typeof batch]); // input_ids, attention_mask, token_type_ids
const logits = lora.predict(inputs) as tf.Tensor;
console.log('logits', await logits.array());

const optimizer = tf.train.adam(1e-2);
const step = createTrainStep(lora, { optimizer, loss: (y, p) => tf.losses.softmaxCrossEntropy(y, p) });
const labels = tf.oneHot(tf.tensor1d([1, 0], 'int32'), 2);
for (let i = 0; i < 5; i++) console.log('loss', (await step(inputs, labels)).toFixed(4));
await savePeftAdapter(lora, '/tmp/tfjs-lora-bert-adapter'); // PeftModel.from_pretrained(model, this folder)
tf.dispose([logits, labels, ...Object.values(batch)]);
optimizer.dispose();
