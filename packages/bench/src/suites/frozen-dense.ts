// `pnpm bench frozen-dense`: a LoRA training step of a Hugging Face-shaped text model (nlp's buildHfTextModel,
// random weights) with the frozen, untargeted Dense layers run through core's frozenMatMul (what applyLora
// installs: dx only) against tfjs-layers' own Dense path (tfjs-core's fused matMul, whose custom gradient also
// computes each frozen kernel's gradient and throws it away). One process, one model, the two paths
// alternating (A B A B …): ms per step and the ratio. Flags: --model distilbert|gpt2, --layers, --seq, --batch,
// --rounds, --backend native|wasm|cpu.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { applyLora, useBackend } from '@tfjs-lora/core';
import { buildHfTextModel } from '@tfjs-lora/nlp';
import { parseArgs } from 'node:util';
import { markdownTable, ms } from '../print-table.js';
import { median } from '../stats.js';
import { hfTextConfig, hfTextTrainStep } from './hf-text-step.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'distilbert' },
    layers: { type: 'string', default: '2' },
    seq: { type: 'string', default: '128' },
    batch: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const [L, SEQ, BATCH, ROUNDS] = [a.layers, a.seq, a.batch, a.rounds].map(Number) as [number, number, number, number];
const gpt2 = a.model === 'gpt2';
const log = (m: string) => process.stderr.write(`${m}\n`);

if (a.backend === 'native') await import('@tfjs-lora/backend-cuda');
else if (a.backend === 'wasm') await import('@tfjs-lora/backend-wasm');
await useBackend(a.backend!);
const family = gpt2 ? 'gpt2' : 'distilbert';
const model = buildHfTextModel(hfTextConfig(family, L), { seed: 1 });
const lora = applyLora(model, { r: 8, loraAlpha: 16, targetModules: gpt2 ? ['c_attn'] : ['q_lin', 'v_lin'] });
const dense = tf.serialization.SerializationMap.getMap().classNameMap['Dense']![0] as unknown as {
  prototype: { call: { tfjsCall?: unknown } };
};
const ours = dense.prototype.call;
const tfjs = ours.tfjsCall;
if (tfjs === undefined) throw new Error("core's frozen-Dense path is not installed (applyLora installs it)");
const { step, dispose } = hfTextTrainStep(model, lora, family, SEQ, BATCH);
const variants = { 'frozenMatMul (dx only)': ours, "tfjs's fused Dense (dx and a discarded dW)": tfjs };
const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (const [name, call] of Object.entries(variants)) {
  dense.prototype.call = call as typeof ours;
  await step(); // warm-up of each path
  log(`warm-up: ${name}`);
}
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, call] of Object.entries(variants)) {
    dense.prototype.call = call as typeof ours;
    const t = performance.now();
    await step();
    times[name]!.push(performance.now() - t);
    log(`round ${r + 1}/${ROUNDS}, ${name}: ${ms(times[name]!.at(-1)!)} ms`);
  }
}
dense.prototype.call = ours;
const [fast, slow] = Object.values(times).map(median) as [number, number];
console.log(
  `\n**${gpt2 ? 'GPT-2' : 'DistilBERT classifier'} (${L} layers), seq ${SEQ}, batch ${BATCH}, LoRA r=8, ${a.backend}**; median of ${ROUNDS} alternating steps\n`,
);
console.log(
  markdownTable(
    ['frozen Dense layers', 'LoRA step ms', 'vs tfjs'],
    Object.keys(times).map((k, i) => [k, ms(i === 0 ? fast : slow), `${((i === 0 ? fast : slow) / slow).toFixed(2)}×`]),
    ['l', 'r', 'r'],
  ),
);
dispose();
lora.dispose();
model.dispose();
