// Pretrains the experiment's small CNN on MNIST and writes models/mnist-cnn/{model.json, weights.bin,
// training.json}. Run: `pnpm --filter @tfjs-lora/vision exec tsx scripts/pretrain-mnist-cnn.ts`
// (options: --epochs N, --train N, --backend wasm|cpu). Deterministic for a given backend.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tfjs-lora/core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadMnist } from '../src/experiments/datasets.js';
import { saveModelFiles } from '@tfjs-lora/core/node';
import { buildMnistCnn, MNIST_CNN_FOLDER } from '../src/experiments/mnist-cnn.js';
import { accuracy, train } from '../src/experiments/training.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    train: { type: 'string', default: '60000' },
    backend: { type: 'string', default: 'wasm' },
  },
});
if (args.backend === 'wasm') await import('@tfjs-lora/backend-wasm');
await useBackend(args.backend === 'wasm' ? ['wasm', 'cpu'] : args.backend!);
console.log(`backend: ${tf.getBackend()}`);

const trainSet = loadMnist('train', { limit: Number(args.train) });
const testSet = loadMnist('test');
const model = buildMnistCnn(1);
const epochs = Number(args.epochs);
const result = await train(model, trainSet, { epochs, batchSize: 64, learningRate: 1e-3, seed: 7 }, (s) => {
  if (s.step % 100 === 0 || s.step === s.steps)
    process.stdout.write(`\repoch ${s.epoch}/${epochs} step ${s.step}/${s.steps} loss ${s.loss.toFixed(4)}   `);
});
const acc = await accuracy(model, testSet);
console.log(`\nMNIST test accuracy ${(acc * 100).toFixed(2)}% after ${result.seconds.toFixed(0)} s`);
await saveModelFiles(model, MNIST_CNN_FOLDER);
const record = {
  model: 'conv1(3x3,32)-pool-conv2(3x3,64)-pool-fc1(128)-head(10)',
  parameters: model.countParams(),
  trainExamples: trainSet.count,
  epochs,
  batchSize: 64,
  optimizer: 'adam(1e-3)',
  seed: { init: 1, order: 7 },
  backend: tf.getBackend(),
  trainSeconds: Math.round(result.seconds),
  mnistTestAccuracy: Number(acc.toFixed(4)),
  tfjs: tf.version_core,
  script: 'packages/vision/scripts/pretrain-mnist-cnn.ts',
};
writeFileSync(join(MNIST_CNN_FOLDER, 'training.json'), `${JSON.stringify(record, null, 2)}\n`);
console.log(record);
