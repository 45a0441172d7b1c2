// Benchmark: LoRA vs full fine-tuning training steps, and forward latency of the base model vs a LoRA
// model unmerged vs merged, on the cpu and wasm backends. MLP 784-512-512-10, batch 64 of MNIST, Adam,
// LoRA r=8 (alpha 16) on all three Dense layers (both hidden layers and the head), so only A/B train.
// Both training variants use the same custom step: optimizer.minimize over the trainable variables.
// Configurations are measured interleaved (alternating order, in rounds) after a warm-up; medians.
//
// The wasm column is stock @tensorflow/tfjs-backend-wasm behind a minimal LoraBackend (./stock-wasm-backend.ts),
// core's LoRA on tfjs's own kernels; `pnpm bench wasm-kernels` measures @tfjs-lora/backend-wasm's kernels.
//
//   pnpm bench core-mlp [cpu] [wasm] [native]
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { cpus } from 'node:os';
import { applyLora, registerLoraBackend, useBackend, type LoraModel } from '@tfjs-lora/core';
import { loadMnist, mnistTensors, type MnistData } from '@tfjs-lora/core/data';
import { markdownTable, ms } from '../print-table.js';
import { quantile } from '../stats.js';
import { wasmBackend } from './stock-wasm-backend.js';
import { buildMlp } from '../workloads.js';

const BATCH = 64;
const R = 8;
const TARGETS = ['hidden1', 'hidden2', 'head'];
/** Steps per configuration: warm-up, then rounds × steps-per-round measured (per backend). */
const PLAN: Record<string, { warmup: number; rounds: number; perRound: number; forwardPerRound: number }> = {
  cpu: { warmup: 3, rounds: 8, perRound: 4, forwardPerRound: 5 },
  wasm: { warmup: 10, rounds: 10, perRound: 10, forwardPerRound: 20 },
  native: { warmup: 10, rounds: 10, perRound: 10, forwardPerRound: 20 },
};

/** Registers @tfjs-lora/backend-cuda's 'native' backend. Returns null, or why it cannot run here. */
async function registerNative(): Promise<string | null> {
  try {
    const plugin = await import('@tfjs-lora/backend-cuda');
    const status = await plugin.nativeBindingStatus();
    if (!status.ok) return status.reason;
    registerLoraBackend(plugin.nativeBackend);
    return null;
  } catch (e) {
    return `@tfjs-lora/backend-cuda could not be loaded (${(e as Error).message.split('\n')[0]})`;
  }
}

/**
 * One training step: forward (training mode), softmax cross-entropy on logits, backward, Adam update; resolves
 * to the loss once it is read back (so a timed step includes all of its work).
 */
function trainingStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
): (x: tf.Tensor, y: tf.Tensor) => Promise<number> {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return async (x, y) => {
    const cost = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
      vars,
    )!;
    const loss = (await cost.data())[0];
    cost.dispose();
    return loss;
  };
}

/** Median and interquartile range of a sample of times. */
interface Timing {
  median: number;
  q1: number;
  q3: number;
}

function timing(v: number[]): Timing {
  return { median: quantile(v, 0.5), q1: quantile(v, 0.25), q3: quantile(v, 0.75) };
}

/**
 * Runs each named function `perRound` times per round, rotating the order every round, awaiting each call
 * before the next (its time includes the wait); resolves to the times in ms.
 */
async function interleaved(
  fns: Record<string, (i: number) => void | Promise<void>>,
  rounds: number,
  perRound: number,
): Promise<Record<string, number[]>> {
  const names = Object.keys(fns);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  let i = 0;
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, k) => names[(k + r) % names.length]);
    for (const name of order) {
      for (let s = 0; s < perRound; s++) {
        const t = performance.now();
        await fns[name](i++);
        times[name].push(performance.now() - t);
      }
    }
  }
  return times;
}

interface Result {
  backend: string;
  loraStep: Timing;
  fullStep: Timing;
  forwardBase: Timing;
  forwardUnmerged: Timing;
  forwardMerged: Timing;
  trainable: number;
  total: number;
  full: number;
  lossDrop: { lora: [number, number]; full: [number, number] };
  steps: number;
}

async function benchBackend(name: string, data: MnistData): Promise<Result> {
  await useBackend(name);
  const plan = PLAN[name];
  const { xs, ys } = mnistTensors(data);
  const batches = Array.from({ length: data.count / BATCH }, (_, i) => [
    tf.slice(xs, [i * BATCH, 0], [BATCH, 784]),
    tf.slice(ys, [i * BATCH, 0], [BATCH, 10]),
  ]);
  tf.dispose([xs, ys]);
  const base = buildMlp();
  const fullModel = buildMlp(); // same seeds: the same initial weights as base
  const lora: LoraModel = applyLora(base, { r: R, loraAlpha: 2 * R, targetModules: TARGETS }, { seed: 7 });
  const merged: LoraModel = applyLora(base, { r: R, loraAlpha: 2 * R, targetModules: TARGETS }, { seed: 7 });
  const loraStep = trainingStep(lora.model, tf.train.adam(1e-3));
  const fullStep = trainingStep(fullModel, tf.train.adam(1e-3));
  const losses: Record<string, number[]> = { lora: [], full: [] };
  const step = (which: 'lora' | 'full', fn: typeof loraStep) => async (i: number) => {
    const [x, y] = batches[i % batches.length];
    losses[which].push(await fn(x, y));
  };
  const train = { lora: step('lora', loraStep), full: step('full', fullStep) };
  for (let i = 0; i < plan.warmup; i++) {
    await train.lora(i);
    await train.full(i);
  }
  const trainTimes = await interleaved(train, plan.rounds, plan.perRound);

  // B ≠ 0 after training; give the merged copy the trained factors, then merge it.
  for (const { path, layer } of lora.loraLayers()) {
    const src = layer.weightsOf('default');
    const dst = merged
      .loraLayers()
      .find((l) => l.path === path)!
      .layer.weightsOf('default');
    dst.loraA.write(src.loraA.read());
    dst.loraB.write(src.loraB.read());
  }
  merged.merge();
  const forward = (model: tfl.LayersModel) => async (i: number) => {
    const y = model.predict(batches[i % batches.length][0]) as tf.Tensor;
    await y.data();
    y.dispose();
  };
  const fwd = { base: forward(base), unmerged: forward(lora.model), merged: forward(merged.model) };
  for (let i = 0; i < plan.warmup; i++) for (const f of Object.values(fwd)) await f(i);
  const fwdTimes = await interleaved(fwd, plan.rounds, plan.forwardPerRound);

  const params = lora.trainableParameters();
  const result: Result = {
    backend: name,
    loraStep: timing(trainTimes.lora),
    fullStep: timing(trainTimes.full),
    forwardBase: timing(fwdTimes.base),
    forwardUnmerged: timing(fwdTimes.unmerged),
    forwardMerged: timing(fwdTimes.merged),
    trainable: params.trainable,
    total: params.total,
    full: fullModel.countParams(),
    lossDrop: { lora: [losses.lora[0], losses.lora.at(-1)!], full: [losses.full[0], losses.full.at(-1)!] },
    steps: trainTimes.lora.length,
  };
  lora.dispose();
  merged.dispose();
  base.dispose();
  fullModel.dispose();
  tf.dispose(batches.flat());
  return result;
}

const fmt = (t: Timing): string => `${ms(t.median)} (${ms(t.q1)}–${ms(t.q3)})`;
const ratio = (a: Timing, b: Timing): string => `${(a.median / b.median).toFixed(2)}×`;

function table(results: Result[]): string {
  const rows: [string, (r: Result) => string][] = [
    ['LoRA training step, ms (IQR)', (r) => fmt(r.loraStep)],
    ['full fine-tuning step, ms (IQR)', (r) => fmt(r.fullStep)],
    ['LoRA / full (median step time)', (r) => ratio(r.loraStep, r.fullStep)],
    ['forward, base model, ms (IQR)', (r) => fmt(r.forwardBase)],
    ['forward, LoRA unmerged, ms (IQR)', (r) => fmt(r.forwardUnmerged)],
    ['forward, LoRA merged, ms (IQR)', (r) => fmt(r.forwardMerged)],
    ['unmerged / base (forward)', (r) => ratio(r.forwardUnmerged, r.forwardBase)],
    ['merged / base (forward)', (r) => ratio(r.forwardMerged, r.forwardBase)],
    [
      'trainable params, LoRA',
      (r) =>
        `${r.trainable.toLocaleString('en')} (${((100 * r.trainable) / r.total).toFixed(2)}% of ${r.total.toLocaleString('en')})`,
    ],
    ['trainable params, full', (r) => `${r.full.toLocaleString('en')} (100%)`],
    ['measured training steps per variant', (r) => String(r.steps)],
  ];
  return markdownTable(
    ['MLP 784-512-512-10, batch 64, Adam, r=8', ...results.map((r) => r.backend)],
    rows.map(([label, f]) => [label, ...results.map(f)]),
  );
}

async function main(): Promise<void> {
  const nativeSkipped = await registerNative();
  if (nativeSkipped) console.error(`native column skipped: ${nativeSkipped}`);
  const wanted =
    process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['cpu', 'wasm', ...(nativeSkipped ? [] : ['native'])];
  registerLoraBackend(wasmBackend);
  const data = loadMnist({ split: 'train', limit: 8 * BATCH });
  const results: Result[] = [];
  const started = performance.now();
  for (const name of wanted) {
    const t = performance.now();
    results.push(await benchBackend(name, data));
    const r = results.at(-1)!;
    console.error(
      `${name}: done in ${((performance.now() - t) / 1000).toFixed(1)} s; loss LoRA ${r.lossDrop.lora.map((v) => v.toFixed(3)).join(' → ')}, full ${r.lossDrop.full.map((v) => v.toFixed(3)).join(' → ')}`,
    );
  }
  const cpu = cpus();
  const simd = wanted.includes('wasm')
    ? `; wasm SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}, 1 thread (tfjs turns wasm threads off in Node)`
    : '';
  console.log(
    `\nMachine: ${cpu[0]?.model ?? 'unknown cpu'}, ${cpu.length} logical cores, Node ${process.version}, tfjs ${tf.version_core}${simd}`,
  );
  console.log(
    `Medians (interquartile range) of interleaved runs after warm-up; forward = predict on batch 64; LoRA on hidden1, hidden2 and head; step = optimizer.minimize over the trainable variables.\n`,
  );
  console.log(table(results));
  const [wasm, native] = ['wasm', 'native'].map((n) => results.find((r) => r.backend === n));
  if (wasm && native) {
    console.log(
      `\nnative / wasm: LoRA step ${ratio(native.loraStep, wasm.loraStep)}, full step ${ratio(native.fullStep, wasm.fullStep)}, forward (LoRA unmerged) ${ratio(native.forwardUnmerged, wasm.forwardUnmerged)}`,
    );
  }
  console.log(`\n(total ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

await main();
