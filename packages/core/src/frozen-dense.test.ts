// Frozen Dense layers while training (frozen-dense.ts): the same loss and LoRA gradients as an independent
// reference built from plain tf ops, one matrix product fewer per frozen layer (no discarded kernel
// gradient), predict untouched, no tensor left behind.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLora } from './apply-lora.js';
import type { LoraModel } from './lora-model.js';
import { randomiseAdapters } from '../test-support/random-factors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** [2, 3, 6] → Dense d1 (relu) → Dense d2 (LoRA target) → Dense d3 (tanh): Dense on 3-D input, as in a transformer. */
function build(): tfl.LayersModel {
  const x = tfl.input({ shape: [3, 6] });
  const h1 = tfl.layers.dense({ name: 'd1', units: 8, activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  const h2 = tfl.layers.dense({ name: 'd2', units: 5 }).apply(h1) as tfl.SymbolicTensor;
  const y = tfl.layers.dense({ name: 'd3', units: 4, activation: 'tanh' }).apply(h2) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: y });
}

const loss = (y: tf.Tensor): tf.Scalar => tf.sum(tf.square(y));
const MATMULS = new Set(['BatchMatMul', '_FusedMatMul', 'MatMul']);

/** The loss, the gradients of `vars`, and the matrix products one step ran. */
async function step(lm: LoraModel, x: tf.Tensor, vars: tf.Variable[]) {
  let value = NaN;
  let grads: Record<string, tf.Tensor> = {};
  const profile = await tf.profile(async () => {
    const r = tf.variableGrads(() => loss(lm.model.apply(x, { training: true }) as tf.Tensor), vars);
    value = (await r.value.data())[0]!;
    r.value.dispose();
    grads = r.grads;
  });
  return { value, grads, matmuls: profile.kernels.filter((k) => MATMULS.has(k.name)).length };
}

describe('frozen Dense layers while training', () => {
  it('give the reference loss and LoRA gradients, with one product fewer than a trainable kernel', async () => {
    const base = build();
    const lm = applyLora(base, { r: 2, loraAlpha: 4, targetModules: ['d2'] });
    randomiseAdapters(lm, 5, 0.5);
    const x = tf.randomNormal([2, 3, 6], 0, 1, 'float32', 9);
    const lora = lm.loraLayers()[0]!.layer.weightsOf('default');
    const vars = [lora.loraA.read(), lora.loraB.read()] as tf.Variable[];
    const before = tf.memory().numTensors;
    const frozen = await step(lm, x, vars);

    // Reference: the same network written with plain tf ops on the weights' values (autodiff of matMul).
    const w = (name: string) => base.getLayer(name).getWeights();
    const [[w1, b1], [w2, b2], [w3, b3]] = [w('d1'), w('d2'), w('d3')] as tf.Tensor[][];
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
      const flat = tf.reshape(x, [6, 6]);
      const h1 = tf.relu(tf.add(tf.matMul(flat, w1!), b1!));
      const h2 = tf.add(tf.add(tf.matMul(h1, w2!), b2!), tf.mul(tf.matMul(tf.matMul(h1, a), b), 2));
      return loss(tf.tanh(tf.add(tf.matMul(h2, w3!), b3!)));
    };
    const ref = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads(f)([lora.loraA.read(), lora.loraB.read()]);
      return [value, ...grads];
    });
    const [refValue, refA, refB] = await Promise.all(ref.map((t) => t.data()));
    expect(Math.abs(frozen.value - refValue![0]!)).toBeLessThan(1e-4);
    const maxDiff = (p: ArrayLike<number>, q: ArrayLike<number>) =>
      Math.max(...Array.from(p, (v, i) => Math.abs(v - q[i]!)));
    const names = Object.keys(frozen.grads);
    expect(maxDiff(await frozen.grads[names[0]!]!.data(), refA!)).toBeLessThan(1e-4);
    expect(maxDiff(await frozen.grads[names[1]!]!.data(), refB!)).toBeLessThan(1e-4);
    tf.dispose([...ref, ...Object.values(frozen.grads)]);
    expect(tf.memory().numTensors).toBe(before);

    // The same step with d3's kernel trainable: tfjs's fused path, which also computes d3's kernel gradient.
    const d3 = lm.model.getLayer('d3') as unknown as { kernel: tfl.LayerVariable };
    d3.kernel.trainable = true;
    const trainable = await step(lm, x, vars);
    d3.kernel.trainable = false;
    expect(Math.abs(trainable.value - frozen.value)).toBeLessThan(1e-5);
    expect(frozen.matmuls).toBe(trainable.matmuls - 1);
    tf.dispose(Object.values(trainable.grads));

    // predict (no gradient recorded) keeps tfjs's own path: the same loss.
    const p = lm.model.predict(x) as tf.Tensor;
    const l = tf.tidy(() => loss(p));
    expect(Math.abs((await l.data())[0]! - frozen.value)).toBeLessThan(1e-5);
    tf.dispose([p, l, x]);
    lm.dispose();
    base.dispose();
  });
});
