import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { LoraConfigError } from './errors/index.js';
import { applyLora } from './apply-lora.js';
import { isLoraB, loraPlusOptimizer } from './lora-plus.js';

describe('LoRA+ optimizer', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('recognises B factors by name', () => {
    expect(isLoraB('fc/lora_B.default')).toBe(true);
    expect(isLoraB('emb/lora_embedding_B.style_a_1')).toBe(true);
    expect(isLoraB('fc/lora_A.default')).toBe(false);
    expect(isLoraB('fc/kernel')).toBe(false);
  });

  it('one SGD step moves A by lr·g and B by lr·λ·g', async () => {
    const base = tfl.sequential({ layers: [tfl.layers.dense({ name: 'fc', units: 3, inputShape: [4] })] });
    const lm = applyLora(base, { targetModules: ['fc'], r: 2, initLoraWeights: false }, { seed: 1 });
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 2);
    const y = tf.randomNormal([6, 3], 0, 1, 'float32', 3);
    const loss = () => tf.mean(tf.square(tf.sub(lm.model.apply(x) as tf.Tensor, y))) as tf.Scalar;
    const names = new Set(lm.model.trainableWeights.map((w) => w.name));
    const vars = Object.values(tf.engine().registeredVariables).filter((v) => names.has(v.name));
    const { value, grads } = tf.variableGrads(loss, vars);
    const before = new Map(vars.map((v) => [v.name, tf.clone(v)]));
    const opt = loraPlusOptimizer({ learningRate: 0.1, ratio: 16, optimizer: 'sgd' });
    opt.minimize(loss, false, vars);
    for (const v of vars) {
      const lr = isLoraB(v.name) ? 0.1 * 16 : 0.1;
      const want = tf.tidy(() => tf.sub(before.get(v.name)!, tf.mul(grads[v.name], lr)));
      expect(maxAbsDiff(v, want), v.name).toBeLessThan(1e-6);
      want.dispose();
    }
    expect(opt.iterations).toBe(1);
    tf.dispose([x, y, value, ...Object.values(grads), ...before.values()]);
    opt.dispose();
    lm.dispose();
    base.dispose();
  });

  it('works with model.compile/fit and rejects bad settings', async () => {
    const base = tfl.sequential({ layers: [tfl.layers.dense({ name: 'fc', units: 2, inputShape: [3] })] });
    const lm = applyLora(base, { targetModules: ['fc'], r: 1 });
    const optimizer = loraPlusOptimizer({ learningRate: 0.01 });
    lm.model.compile({ optimizer, loss: 'meanSquaredError' });
    const [xs, ys] = [tf.ones([4, 3]), tf.zeros([4, 2])];
    const h = await lm.model.fit(xs, ys, { epochs: 2, verbose: 0 });
    expect(h.history.loss.length).toBe(2);
    expect(() => loraPlusOptimizer({ learningRate: -1 })).toThrow(LoraConfigError);
    expect(() => loraPlusOptimizer({ learningRate: 1, ratio: 0 })).toThrow(/ratio/);
    lm.dispose();
    base.dispose();
    optimizer.dispose(); // passed as an object, the optimizer is the caller's: the model does not dispose it
    tf.dispose([xs, ys]);
  });
});
