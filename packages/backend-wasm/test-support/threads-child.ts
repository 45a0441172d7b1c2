// Child process for the threads test: trains a few LoRA-style steps on wasm with the given `threads`
// option (argv[2]: 'default', 'false' or a count), checks a product against the cpu backend, prints one
// JSON line with the time it finished, and ends without closing anything: the process must exit by itself.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { useBackend } from '@tfjs-lora/core';
import { registerWasmBackend, wasmThreadsCount } from '../src/index.js';
import { maxDiff, values } from './kernel-check.js';

const arg = process.argv[2] ?? 'default';
registerWasmBackend(arg === 'default' ? {} : { threads: arg === 'false' ? false : Number(arg) });

function work(): { product: Float32Array; losses: number[] } {
  const x = tf.tensor(values(64 * 96, 1), [64, 96]);
  const y = tf.tensor(values(64 * 80, 2), [64, 80]);
  const w = tf.variable(tf.tensor(values(96 * 80, 3), [96, 80]), false);
  const a = tf.variable(tf.mul(tf.tensor(values(96 * 4, 4), [96, 4]), 0.1));
  const b = tf.variable(tf.zeros([4, 80]));
  const opt = tf.train.adam(0.01);
  const losses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const loss = opt.minimize(
      () => tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, w), tf.matMul(tf.matMul(x, a), b))) as tf.Scalar,
      true,
      [a, b],
    )!;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
  }
  const big = tf.tensor(values(300 * 257, 5), [300, 257]);
  const product = tf.matMul(big, big, false, true).dataSync() as Float32Array;
  return { product, losses };
}

await useBackend('cpu');
const cpu = work();
await useBackend('wasm');
const wasm = work();
console.log(
  JSON.stringify({
    backend: tf.getBackend(),
    threads: await wasmThreadsCount(),
    productDiff: maxDiff(wasm.product, cpu.product),
    lossDiff: maxDiff(wasm.losses, cpu.losses),
    doneAt: Date.now(),
  }),
);
