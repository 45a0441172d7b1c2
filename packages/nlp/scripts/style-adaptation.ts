// The style-adaptation experiment: the committed Moby Dick character LM adapted to State of the Union
// speeches (1961-2021, every 5th held out) with LoRA r=8 on q,v, LoRA on all linear layers and full
// fine-tuning; prints progress, the results table and samples with the adapter on and off.
//
//   pnpm --filter @tfjs-lora/nlp style        (or: cd packages/nlp && npx tsx scripts/style-adaptation.ts)
//   flags: --backend wasm|cpu (default wasm), --steps N (default 150), --methods lora-qv,lora-all-linear,full
import '@tfjs-lora/backend-wasm';
import { useBackend } from '@tfjs-lora/core';
import { parseArgs } from 'node:util';
import { registerNlpLayerKinds } from '../src/register.js';
import { formatStyleTable, runStyleAdaptation, type StyleMethod } from '../src/experiments/style-adaptation.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '150' },
    methods: { type: 'string' },
  },
});
registerNlpLayerKinds();
await useBackend(values.backend!);
const methods = values.methods?.split(',') as StyleMethod[] | undefined;
const started = performance.now();
let running = 0;
const result = await runStyleAdaptation({ steps: Number(values.steps), ...(methods ? { methods } : {}) }, (p) => {
  if (p.phase !== 'train') return console.log(`[${p.method}] ${p.phase}`);
  running = p.step === 1 ? p.loss! : 0.9 * running + 0.1 * p.loss!;
  if (p.step! % 25 === 0 || p.step === p.steps)
    console.log(`[${p.method}] step ${p.step}/${p.steps}  loss ${running.toFixed(3)}`);
});
console.log(
  `\nbackend ${result.backend}; ${result.trainCharacters} training and ${result.heldOutCharacters} held-out characters; ${((performance.now() - started) / 1000).toFixed(0)} s in all\n`,
);
console.log(formatStyleTable(result));
if (result.samples) {
  console.log(`\nPrompt: ${JSON.stringify(result.samples.prompt)} (temperature 0.7, same seed)`);
  console.log(`adapter off (Moby Dick): ${JSON.stringify(result.samples.adapterOff)}`);
  console.log(`adapter on  (SOTU):      ${JSON.stringify(result.samples.adapterOn)}`);
}
