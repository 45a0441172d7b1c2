// PiSSA/OLoRA on a backend that cannot read synchronously: the decomposition runs on the cpu backend and
// gives the cpu numbers. The stand-in backend is tfjs's own cpu backend and kernels under another name, so
// canReadSync() is false for it and the asynchronous path runs (webgpu itself runs in the conformance suite).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { useRenamedCpuBackend } from '@tfjs-lora/test-support/hooks';
import { applyLora } from './apply-lora.js';
import type { InitLoraWeights } from './config.js';
import { LoraError } from './errors/index.js';
import type { LoraModel } from './lora-model.js';
import { canReadSync } from './sync-read.js';

const OTHER = 'host-init-test-no-sync-reads';

function mlp(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        name: 'fc1',
        units: 7,
        inputShape: [5],
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
      }),
      tfl.layers.dense({ name: 'fc2', units: 4, kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
}

async function weightsOf(lm: LoraModel): Promise<number[][]> {
  return Promise.all(lm.model.weights.map(async (w) => Array.from(await w.read().data())));
}

describe('PiSSA / OLoRA without synchronous reads', () => {
  useRenamedCpuBackend(OTHER);

  const modes: InitLoraWeights[] = ['pissa', 'pissa_niter_3', 'olora'];
  for (const mode of modes) {
    it(`${String(mode)}: same weights as on cpu, backend restored, useDora included`, async () => {
      const config = { r: 2, loraAlpha: 4, targetModules: ['fc1', 'fc2'], initLoraWeights: mode, useDora: true };
      await tf.setBackend('cpu');
      const baseCpu = mlp();
      const onCpu = await applyLora(baseCpu, config, { seed: 5 });
      const expected = await weightsOf(onCpu);
      onCpu.dispose();
      baseCpu.dispose();

      await tf.setBackend(OTHER);
      expect(canReadSync()).toBe(false);
      const base = mlp();
      const before = tf.memory().numTensors;
      const lm = await applyLora(base, config, { seed: 5 });
      expect(tf.getBackend()).toBe(OTHER);
      expect(await weightsOf(lm)).toEqual(expected);
      await lm.addAdapter('second', { ...config, r: 1 });
      expect(tf.getBackend()).toBe(OTHER);
      const x = tf.ones([2, 5]);
      const y = lm.model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([2, 4]);
      tf.dispose([x, y]);
      lm.dispose();
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
      base.dispose();
    });
  }

  it('the synchronous LoraLayer.initAdapter refuses PiSSA there and names the awaited calls', async () => {
    await tf.setBackend(OTHER);
    const base = mlp();
    const lm = applyLora(base, { r: 2, targetModules: ['fc1'] });
    const { layer } = lm.loraLayers()[0]!;
    expect(() => layer.initAdapter('default', 'pissa')).toThrow(LoraError);
    expect(() => layer.initAdapter('default', 'olora')).toThrow(/await applyLora/);
    lm.dispose();
    base.dispose();
  });

  it('a failing initialisation rejects, restores the backend and leaves no tensors', async () => {
    await tf.setBackend(OTHER);
    const base = mlp();
    const before = tf.memory().numTensors;
    await expect(applyLora(base, { r: 6, targetModules: ['fc2'], initLoraWeights: 'pissa' })).rejects.toThrow(
      LoraError,
    );
    expect(tf.getBackend()).toBe(OTHER);
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
  });
});
