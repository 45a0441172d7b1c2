// One measurement process of wasm-kernels.ts: the wasm backend configured by argv[2] ('stock' =
// tfjs-backend-wasm's own kernels, one thread; 'ours-1' = @tfjs-lora/backend-wasm's kernels, one thread;
// 'ours-N' = the same, N threads); times the kernels it replaces through tfjs's public ops (./wasm-kernel-cases.ts),
// then the MLP LoRA training step and untransposed matMuls. Prints one JSON line of median milliseconds.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, useBackend } from '@tfjs-lora/core';
import { registerWasmBackend, wasmThreadsCount } from '@tfjs-lora/backend-wasm';
import { median, seededFloats as values, timeMs } from '../stats.js';
import { timeKernelCases } from './wasm-kernel-cases.js';

const config = process.argv[2] ?? 'ours-1';
const threads = config === 'stock' ? false : Number(config.split('-')[1]) > 1 ? Number(config.split('-')[1]) : false;
registerWasmBackend({ fasterKernels: config !== 'stock', threads });
await useBackend('wasm');
const kernels = config === 'ours-1' || config === 'stock' ? timeKernelCases() : {};

const BATCH = 64;
function mlp(): tfl.Sequential {
  const m = tfl.sequential();
  m.add(
    tfl.layers.dense({
      name: 'hidden1',
      units: 512,
      activation: 'relu',
      inputShape: [784],
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  m.add(
    tfl.layers.dense({
      name: 'hidden2',
      units: 512,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  m.add(tfl.layers.dense({ name: 'head', units: 10, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
  return m;
}
const lora = applyLora(mlp(), { r: 8, loraAlpha: 16, targetModules: ['hidden1', 'hidden2', 'head'] }, { seed: 7 });
const vars = lora.model.trainableWeights.map((w) => w.read() as tf.Variable);
const opt = tf.train.adam(1e-3);
const batches = Array.from({ length: 8 }, (_, i) => [
  tf.tensor(values(BATCH * 784, 100 + i), [BATCH, 784]),
  tf.oneHot(
    tf.tensor1d(
      Array.from({ length: BATCH }, (_, j) => (i * 7 + j * 3) % 10),
      'int32',
    ),
    10,
  ),
]);
const losses: number[] = [];
const step = async (i: number) => {
  const [x, y] = batches[i % batches.length];
  const cost = opt.minimize(
    () => tf.losses.softmaxCrossEntropy(y, lora.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    true,
    vars,
  )!;
  losses.push((await cost.data())[0]);
  cost.dispose();
};
const stepMs = median(await timeMs(step, 15, 80));

const matMulMs = async (m: number, k: number, n: number, reps: number) => {
  const a = tf.tensor(values(m * k, 1), [m, k]);
  const b = tf.tensor(values(k * n, 2), [k, n]);
  const product = async () => {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  };
  const t = median(await timeMs(product, 3, reps));
  tf.dispose([a, b]);
  return t;
};
console.log(
  JSON.stringify({
    config,
    threads: await wasmThreadsCount(),
    stepMs,
    mm1024: await matMulMs(1024, 1024, 1024, 8),
    mm64x784x512: await matMulMs(64, 784, 512, 60),
    mm64x512x512: await matMulMs(64, 512, 512, 60),
    firstLoss: losses[0],
    lastLoss: losses.at(-1),
    kernels,
  }),
);
