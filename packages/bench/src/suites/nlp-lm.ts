// Benchmark of @tfjs-lora/nlp on the committed Moby Dick character LM (3 blocks, width 128, 64 tokens):
//   1. per-row mixed adapters (8 LoRA adapters r=8 on q,v; batch 64, round-robin rows) in one pass (masked and
//      gather forms) vs looping per adapter (PEFT's way: 8 sub-batches, setAdapter each);
//   2. a LoRA (r=8 on q,v) training step vs a full fine-tuning step (batch 16, Adam, the same custom step);
//   3. forward (batch 64) of the LoRA model unmerged vs merged vs the base model.
// Each pair is measured interleaved in rounds (alternating order) after a warm-up; medians with IQR.
//
//   pnpm bench nlp-lm [--backend wasm|cpu] [--rounds N]
import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-lora/backend-wasm';
import { applyLora, predictLoopingAdapters, predictWithAdapters, useBackend } from '@tfjs-lora/core';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { modelFiles, modelFromFiles } from '@tfjs-lora/core/node';
import { loadMobyDickLM, nextTokenLoss, registerNlpLayerKinds } from '@tfjs-lora/nlp';
import { markdownTable } from '../print-table.js';
import { median, quantile } from '../stats.js';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' }, rounds: { type: 'string' } } });
registerNlpLayerKinds();
await useBackend(values.backend!);
const slow = tf.getBackend() === 'cpu';
const ROUNDS = Number(values.rounds ?? (slow ? 3 : 8));
const WARMUP = slow ? 1 : 3;
const ADAPTERS = 8;
const BATCH = 64;
const TOKENS = 64;

/** Times each function `ROUNDS` times, interleaved with alternating order, after `WARMUP` runs each. */
function measure(fns: Record<string, () => void>): Record<string, number[]> {
  const names = Object.keys(fns);
  for (let i = 0; i < WARMUP; i++) names.forEach((n) => fns[n]!());
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const n of r % 2 === 0 ? names : [...names].reverse()) {
      const t = performance.now();
      fns[n]!();
      times[n]!.push(performance.now() - t);
    }
  }
  return times;
}

const ms = (xs: number[]) =>
  `${median(xs).toPrecision(3)} (${quantile(xs, 0.25).toPrecision(3)}–${quantile(xs, 0.75).toPrecision(3)})`;
const ratio = (a: number[], b: number[]) => `${(median(a) / median(b)).toFixed(2)}×`;

const { model: pretrained } = await loadMobyDickLM();
const files = await modelFiles(pretrained);
pretrained.dispose();
const fresh = async () => (await modelFromFiles(files.json, files.weights)).model;
const rows: [string, string][] = [];
const ids = tf.randomUniform([BATCH, TOKENS], 2, 97, 'int32', 1);

// 1. Per-row mixed adapters vs the per-adapter loop, at 64 tokens per row (compute-bound) and 4 (a decoding-like
//    step, where per-call overhead matters).
{
  const base = await fresh();
  const lm = applyLora(
    base,
    { r: 8, loraAlpha: 16, targetModules: ['query', 'value'], initLoraWeights: false },
    { adapterName: 'a0', seed: 1 },
  );
  for (let i = 1; i < ADAPTERS; i++)
    lm.addAdapter(
      `a${i}`,
      { r: 8, loraAlpha: 16, targetModules: ['query', 'value'], initLoraWeights: false },
      { seed: i + 1 },
    );
  const names = Array.from({ length: BATCH }, (_, i) => `a${i % ADAPTERS}`);
  // auto: the masked form here (k·r = 64 ≤ width 128); the LoRA layers serve the rows, nothing to build
  const view = { predict: (x: tf.Tensor, rows: string[]) => predictWithAdapters(lm, x, rows) };
  const gatherView = {
    predict: (x: tf.Tensor, rows: string[]) => predictWithAdapters(lm, x, rows, { strategy: 'gather' }),
  };
  for (const tokens of [TOKENS, 4]) {
    const x = tf.slice(ids, [0, 0], [BATCH, tokens]);
    const diff = tf.tidy(() =>
      tf.max(tf.abs(tf.sub(view.predict(x, names) as tf.Tensor, predictLoopingAdapters(lm, x, names)))),
    );
    const check = (await diff.data())[0]!;
    diff.dispose();
    const t = measure({
      mixed: () => tf.dispose(view.predict(x, names)),
      gather: () => tf.dispose(gatherView.predict(x, names)),
      loop: () => tf.dispose(predictLoopingAdapters(lm, x, names)),
      base: () => tf.dispose(lm.withAdaptersDisabled(() => lm.model.predictOnBatch(x))),
    });
    rows.push(
      [`forward ${BATCH}×${tokens} tokens, per-row mixed (${ADAPTERS} adapters, one pass), ms (IQR)`, ms(t['mixed']!)],
      [`forward ${BATCH}×${tokens} tokens, per-row mixed, gather form, ms (IQR)`, ms(t['gather']!)],
      [`forward ${BATCH}×${tokens} tokens, looping per adapter (${ADAPTERS} sub-batches), ms (IQR)`, ms(t['loop']!)],
      [`forward ${BATCH}×${tokens} tokens, adapters disabled, ms (IQR)`, ms(t['base']!)],
      [`**loop / per-row mixed (${tokens} tokens)**`, `**${ratio(t['loop']!, t['mixed']!)}**`],
      [`per-row mixed / adapters disabled (${tokens} tokens)`, ratio(t['mixed']!, t['base']!)],
      [`per-row vs loop, max |difference| (${tokens} tokens)`, check.toExponential(1)],
    );
    x.dispose();
  }
  lm.dispose();
  base.dispose();
}

// 2. LoRA vs full fine-tuning training step (batch 16 × 64 tokens, Adam).
{
  const x = tf.slice(ids, [0, 0], [16, TOKENS - 1]);
  const y = tf.slice(ids, [0, 1], [16, TOKENS - 1]);
  const fullModel = await fresh();
  const loraBase = await fresh();
  const lm = applyLora(loraBase, { r: 8, loraAlpha: 16, targetModules: ['query', 'value'] }, { seed: 1 });
  const stepFor = (model: typeof fullModel) => {
    const optimizer = tf.train.adam(1e-4);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    return () =>
      tf.dispose(
        optimizer.minimize(() => nextTokenLoss(model.apply(x, { training: true }) as tf.Tensor, y), true, vars)!,
      );
  };
  const t = measure({ lora: stepFor(lm.model), full: stepFor(fullModel) });
  const p = lm.trainableParameters();
  rows.push(
    ['training step, LoRA r=8 on q,v, ms (IQR)', ms(t['lora']!)],
    ['training step, full fine-tuning, ms (IQR)', ms(t['full']!)],
    ['**LoRA / full (step time)**', `**${ratio(t['lora']!, t['full']!)}**`],
    [
      'trainable parameters, LoRA / full',
      `${p.trainable.toLocaleString('en-US')} / ${fullModel.countParams().toLocaleString('en-US')}`,
    ],
  );
  tf.dispose([x, y]);
  lm.dispose();
  [loraBase, fullModel].forEach((m) => m.dispose());
}

// 3. Forward: LoRA unmerged vs merged vs base.
{
  const base = await fresh();
  const lm = applyLora(
    base,
    { r: 8, loraAlpha: 16, targetModules: ['query', 'value'], initLoraWeights: false },
    { seed: 3 },
  );
  const merged = lm.mergeAndUnload();
  const t = measure({
    unmerged: () => tf.dispose(lm.model.predictOnBatch(ids)),
    merged: () => tf.dispose(merged.predictOnBatch(ids)),
    base: () => tf.dispose(base.predictOnBatch(ids)),
  });
  rows.push(
    ['forward, LoRA unmerged, ms (IQR)', ms(t['unmerged']!)],
    ['forward, LoRA merged (mergeAndUnload), ms (IQR)', ms(t['merged']!)],
    ['forward, base model, ms (IQR)', ms(t['base']!)],
    ['**unmerged / merged**', `**${ratio(t['unmerged']!, t['merged']!)}**`],
    ['merged / base', ratio(t['merged']!, t['base']!)],
  );
  merged.dispose();
  lm.dispose();
  base.dispose();
}
ids.dispose();

console.log(
  `\n${tf.getBackend()} backend, ${cpus()[0]?.model ?? 'CPU'} (${cpus().length} logical cores), Node ${process.version}, ${ROUNDS} rounds after ${WARMUP} warm-up`,
);
console.log(`Moby Dick char LM (3 blocks, width 128), ${TOKENS} tokens per row\n`);
console.log(markdownTable([`measurement (${tf.getBackend()})`, 'value'], rows));
