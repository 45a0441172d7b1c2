// Benchmark: the per-step overhead of tfjs-layers' `model.fit` and `trainOnBatch` against a minimal custom
// loop (optimizer.minimize over the trainable variables) and core's `createTrainStep`, on the same
// workload: LoRA MLP 784-512-512-10 (r=8, alpha 16, on all three Dense layers), batch 64, Adam. Each
// variant trains its own copy (same initial weights) on the same batches; the variants run interleaved
// in rounds (rotating order) after a warm-up; medians of ms per step. `fit` is timed over one call of
// --steps batches (its per-call setup included, divided by the steps), as a training epoch would be;
// so is core's `train`. Both make each batch from the whole data; the other variants get pre-cut batches.
// (Most of fit's extra time on stock wasm is cutting the batches: fit gathers each batch with GatherV2,
// ~2 ms for 64 rows of 784 on stock wasm, whose Slice is slower still (it reads the whole input);
// `train` copies batches from one host read instead.)
//
//   pnpm bench core-fit [wasm|cpu] [--rounds N] [--steps N]
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { parseArgs } from 'node:util';
import { applyLora, createTrainStep, registerLoraBackend, train, useBackend } from '@tfjs-lora/core';
import { markdownTable, ratio } from '../print-table.js';
import { median } from '../stats.js';
import { wasmBackend } from './stock-wasm-backend.js';
import { buildMlp } from '../workloads.js';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '8' }, steps: { type: 'string', default: '8' } },
});
const BACKEND = positionals[0] ?? 'wasm';
const ROUNDS = Number(opts.rounds);
const STEPS = Number(opts.steps);
const BATCH = 64;

/** The shared MLP (softmax head, for `fit`'s categorical cross-entropy) with LoRA r=8 on every layer. */
function buildLoraMlp(): tfl.LayersModel {
  const targetModules = ['hidden1', 'hidden2', 'head'];
  return applyLora(buildMlp({ softmaxHead: true }), { r: 8, loraAlpha: 16, targetModules }, { seed: 7 }).model;
}

async function main(): Promise<void> {
  registerLoraBackend(wasmBackend);
  await useBackend(BACKEND);
  const x = tf.randomUniform([STEPS * BATCH, 784], 0, 1, 'float32', 1);
  const y = tf.tidy(() =>
    tf.cast(
      tf.oneHot(
        tf.tensor1d(
          Array.from({ length: STEPS * BATCH }, (_, i) => (i * 7) % 10),
          'int32',
        ),
        10,
      ),
      'float32',
    ),
  );
  const batches = Array.from(
    { length: STEPS },
    (_, i) => [tf.slice(x, i * BATCH, BATCH), tf.slice(y, i * BATCH, BATCH)] as const,
  );
  const loss = 'categoricalCrossentropy';

  const fitModel = buildLoraMlp();
  fitModel.compile({ optimizer: tf.train.adam(1e-3), loss });
  const tobModel = buildLoraMlp();
  tobModel.compile({ optimizer: tf.train.adam(1e-3), loss });
  const loopModel = buildLoraMlp();
  const loopOpt = tf.train.adam(1e-3);
  const loopVars = loopModel.trainableWeights.map((w) => w.read() as tf.Variable);
  const stepModel = buildLoraMlp();
  const step = createTrainStep(stepModel, { optimizer: tf.train.adam(1e-3), loss });
  const trainModel = buildLoraMlp();
  const trainOpt = tf.train.adam(1e-3);

  /** One round of STEPS steps per variant; returns ms per step. */
  const variants: Record<string, () => Promise<number>> = {
    'model.fit': async () => {
      const t = performance.now();
      await fitModel.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0, yieldEvery: 'never' });
      return (performance.now() - t) / STEPS;
    },
    'model.trainOnBatch': async () => {
      const t = performance.now();
      for (const [xb, yb] of batches) await tobModel.trainOnBatch(xb, yb);
      return (performance.now() - t) / STEPS;
    },
    'optimizer.minimize loop': async () => {
      const t = performance.now();
      for (const [xb, yb] of batches) {
        const cost = loopOpt.minimize(
          () =>
            tf.mean(
              tfl.metrics.categoricalCrossentropy(yb, loopModel.apply(xb, { training: true }) as tf.Tensor),
            ) as tf.Scalar,
          true,
          loopVars,
        )!;
        await cost.data();
        cost.dispose();
      }
      return (performance.now() - t) / STEPS;
    },
    'train (core; whole data in, batches made per step)': async () => {
      const t = performance.now();
      await train(trainModel, { x, y }, { optimizer: trainOpt, loss, batchSize: BATCH });
      return (performance.now() - t) / STEPS;
    },
    createTrainStep: async () => {
      const t = performance.now();
      for (const [xb, yb] of batches) await step(xb, yb);
      return (performance.now() - t) / STEPS;
    },
  };
  const names = Object.keys(variants);
  for (const name of names) await variants[name]!(); // warm-up: one round each
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length]!;
      times[name]!.push(await variants[name]!());
    }
  }
  const base = median(times['optimizer.minimize loop']!);
  console.log(
    `\nLoRA MLP 784-512-512-10, r=8, batch 64, Adam, ${BACKEND} backend; ${ROUNDS} interleaved rounds × ${STEPS} steps per variant; medians of per-round ms/step`,
  );
  const rows = names.map((name) => {
    const v = times[name]!;
    const range = `${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}`;
    return [name, median(v).toFixed(2), range, ratio(median(v), base)];
  });
  console.log(markdownTable(['variant', 'ms/step (median)', 'min–max', 'vs minimize loop'], rows));
  const fitRatio = median(times['model.fit']!) / base;
  const fitVsTrain = median(times['model.fit']!) / median(times['train (core; whole data in, batches made per step)']!);
  console.log(
    `\nfit / minimize loop = ${fitRatio.toFixed(3)} (${fitRatio > 1.1 ? 'over' : 'within'} the 10% budget); fit / train = ${fitVsTrain.toFixed(3)}; trainOnBatch / loop = ${(median(times['model.trainOnBatch']!) / base).toFixed(3)}; createTrainStep / loop = ${(median(times['createTrainStep']!) / base).toFixed(3)}`,
  );
  tf.dispose([x, y, ...batches.flat()]);
}

await main();
