// The README's example: LoRA on a small transformer LM (token embedding + q, v), a few training steps,
// samples with the adapter on and off, and one batch whose rows use different adapters.
//   cd packages/nlp && npx tsx examples/quickstart.ts
import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-lora/backend-wasm'; // registers the wasm backend (with the gather gradient embeddings need)
import { applyLora, predictWithAdapters, useBackend } from '@tfjs-lora/core';
import { generateAsync, loadMobyDickLM, trainLanguageModel } from '../src/index.js';

await useBackend('auto'); // wasm; cpu when wasm is unavailable (slower)
const { model: base, tokenizer, info } = await loadMobyDickLM(); // 3 blocks, width 128, trained on Moby Dick
console.log(`base model: ${base.countParams()} parameters, held-out perplexity ${info.heldOutPerplexity}`);

const lm = applyLora(
  base,
  { r: 8, loraAlpha: 16, targetModules: ['wte', 'query', 'value'] },
  { adapterName: 'pirate' },
);
console.log(lm.trainableParameters()); // { trainable: 14088, total: 642281, percent: 2.19... }
const text = tokenizer.encode(
  'Arr, me hearties! Hoist the colours and splice the mainbrace, ye scurvy dogs! '.repeat(40),
);
await trainLanguageModel(lm.model, text, { steps: 20, batchSize: 8, length: 64, learningRate: 5e-3 });

console.log('off:', await generateAsync(lm, 'Ahoy, ', { adapter: null, maxNewTokens: 60, seed: 1 }));
console.log('on: ', await generateAsync(lm, 'Ahoy, ', { adapter: 'pirate', maxNewTokens: 60, seed: 1 }));

// One forward pass, one adapter per row ('__base__' = none), no loop over adapters:
const ids = tokenizer.encodeBatch(['Call me Ishmael.', 'Arr, me hearties'], 16);
const logits = predictWithAdapters(lm, ids, ['__base__', 'pirate']) as tf.Tensor;
console.log(logits.shape); // [2, 16, 97]
tf.dispose([ids, logits]);
lm.dispose();
base.dispose();
