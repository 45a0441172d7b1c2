// The spam-vs-ham experiment: a classifier on the trunk of the committed Moby Dick character LM, trained on
// SpamAssassin e-mails with LoRA r=8 on the embeddings + attention (head in modules_to_save) vs the head only.
//
//   pnpm --filter @tfjs-lora/nlp spam         (or: cd packages/nlp && npx tsx scripts/spam.ts)
//   flags: --backend wasm|cpu (default wasm), --steps N (default 120)
import '@tfjs-lora/backend-wasm';
import { useBackend } from '@tfjs-lora/core';
import { parseArgs } from 'node:util';
import { registerNlpLayerKinds } from '../src/register.js';
import { formatSpamTable, runSpamClassification } from '../src/experiments/spam-classifier.js';

const { values } = parseArgs({
  options: { backend: { type: 'string', default: 'wasm' }, steps: { type: 'string', default: '120' } },
});
registerNlpLayerKinds();
await useBackend(values.backend!);
let running = 0;
const result = await runSpamClassification({ steps: Number(values.steps) }, (p) => {
  running = p.step === 1 ? p.loss : 0.9 * running + 0.1 * p.loss;
  if (p.step % 20 === 0 || p.step === p.steps)
    console.log(`[${p.method}] step ${p.step}/${p.steps}  loss ${running.toFixed(3)}`);
});
console.log(
  `\n${result.trainEmails} training e-mails, ${result.testEmails} held out (${(100 * result.spamShare).toFixed(1)}% spam)\n`,
);
console.log(formatSpamTable(result));
