// LoRA fine-tuning on WebGPU in Node (Dawn): the README's example, runnable as
//   pnpm --filter @tfjs-lora/backend-webgpu example
// (Inside this repository the plugin is imported from ../src; applications import '@tfjs-lora/backend-webgpu'.)
import '@tensorflow/tfjs-backend-cpu';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, useBackend } from '@tfjs-lora/core';
import { describeAdapter, disposeWebgpuBackend, webgpuAdapterReport } from '../src/index.js';

/** Trains a LoRA adapter on a toy task and returns the backend used and the loss curve. */
export async function main(epochs = 5): Promise<{ backend: string; adapter: string; losses: number[] }> {
  const backend = await useBackend('auto'); // 'webgpu' when Dawn or navigator.gpu gives an adapter
  const report = await webgpuAdapterReport();
  const adapter = report ? describeAdapter(report) : 'none';
  console.log(`backend: ${backend.name}; adapter: ${adapter}`);

  const base = tfl.sequential({
    layers: [
      tfl.layers.dense({ name: 'hidden', units: 64, activation: 'relu', inputShape: [32] }),
      tfl.layers.dense({ name: 'head', units: 4, activation: 'softmax' }),
    ],
  });
  const lora = applyLora(base, { r: 8, loraAlpha: 16, targetModules: ['hidden'] });
  console.log(lora.trainableParameters());
  const optimizer = tf.train.adam(1e-2); // an optimizer object stays yours to dispose (the model does not)
  lora.model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const xs = tf.randomNormal([256, 32], 0, 1, 'float32', 1);
  const ys = tf.tidy(() => tf.oneHot(tf.argMax(tf.slice(xs, [0, 0], [-1, 4]), 1), 4)); // label: largest of the first 4 inputs
  const history = await lora.model.fit(xs, ys, { epochs, batchSize: 64, verbose: 0 });
  const losses = history.history['loss'] as number[];
  console.log(`loss: ${losses.map((l) => l.toFixed(3)).join(' → ')}`);

  const merged = lora.mergeAndUnload(); // plain tfjs layers with ΔW folded in
  merged.dispose();
  tf.dispose([xs, ys]);
  optimizer.dispose();
  lora.dispose();
  base.dispose();
  await disposeWebgpuBackend(); // releases the GPU device so that Node can exit
  return { backend: backend.name, adapter, losses };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
