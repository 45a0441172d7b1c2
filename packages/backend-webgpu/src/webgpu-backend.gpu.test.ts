// The plugin on a real WebGPU adapter (Dawn in Node): chosen by useBackend('auto'), adapter report,
// core's Dense LoRA layer running the fused kernel with the cpu backend's numbers, dispose and reuse.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { activeKernels, applyLora, useBackend } from '@tfjs-lora/core';
import { afterAll, describe, expect, it } from 'vitest';
import { maxDiff } from '@tfjs-lora/test-support';
import { seededValues, webgpuTestEnvironment } from '../test-support/webgpu-env.js';
import { describeAdapter } from './adapter-report.js';
import { disposeWebgpuBackend, webgpuAdapterReport, webgpuKernels } from './webgpu-backend.js';

const env = await webgpuTestEnvironment('webgpu-backend.gpu.test.ts');

/** A 2-layer MLP with fixed weights and LoRA (non-zero B) on both layers; its output and LoRA gradients. */
async function loraRun(): Promise<Float32Array[]> {
  const base = tfl.sequential({
    layers: [
      tfl.layers.dense({ name: 'fc1', units: 13, activation: 'relu', inputShape: [11] }),
      tfl.layers.dense({ name: 'fc2', units: 6 }),
    ],
  });
  tf.tidy(() => {
    base
      .getLayer('fc1')
      .setWeights([tf.tensor2d(seededValues(11 * 13, 1, 0.5), [11, 13]), tf.tensor1d(seededValues(13, 2))]);
    base
      .getLayer('fc2')
      .setWeights([tf.tensor2d(seededValues(13 * 6, 3, 0.5), [13, 6]), tf.tensor1d(seededValues(6, 4))]);
  });
  const lm = applyLora(base, { r: 3, loraAlpha: 6, targetModules: ['fc1', 'fc2'] }, { seed: 7 });
  for (const { layer } of lm.loraLayers()) {
    const w = layer.weightsOf('default');
    const shape = w.loraB.shape as number[];
    tf.tidy(() => {
      w.loraB.write(tf.tensor(seededValues(shape[0] * shape[1], 9, 0.3), shape));
    });
  }
  const x = tf.tensor2d(seededValues(5 * 11, 5), [5, 11]);
  const vars = lm.model.trainableWeights.map((v) => tf.engine().registeredVariables[v.name]);
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.square(lm.model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
    vars,
  );
  const y = lm.model.predict(x) as tf.Tensor;
  const out = [
    await y.data(),
    await value.data(),
    ...(await Promise.all(vars.map((v) => grads[v.name].data()))),
  ] as Float32Array[];
  tf.dispose([y, value, x, ...Object.values(grads)]);
  lm.dispose();
  base.dispose();
  return out;
}

describe.skipIf(!env.ok)('webgpu LoRA backend on this machine', () => {
  afterAll(async () => {
    await disposeWebgpuBackend();
  });

  it("is what useBackend('auto') picks, with every op on the GPU", async () => {
    const chosen = await useBackend('auto');
    expect(chosen.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(tf.env().getNumber('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD')).toBe(0);
    expect(activeKernels()).toBe(webgpuKernels);
  });

  it('reports the adapter: name, software or not, features and limits', async () => {
    const report = (await webgpuAdapterReport())!;
    console.log(`webgpu adapter: ${describeAdapter(report)}`);
    expect(report.source).toBe('dawn');
    expect(['vulkan', 'opengl', 'opengles']).toContain(report.dawnBackend);
    expect(report.device.length + report.description.length).toBeGreaterThan(0);
    expect(report.limits['maxStorageBufferBindingSize']).toBeGreaterThan(0);
    expect(report.limits['maxComputeInvocationsPerWorkgroup']).toBeGreaterThanOrEqual(64);
  });

  it("runs core's Dense LoRA layers through the fused kernel with the cpu backend's output and gradients", async () => {
    await useBackend('cpu');
    const reference = await loraRun();
    await useBackend('webgpu');
    const before = tf.memory().numTensors;
    const profile = await tf.profile(async () => {
      const ours = await loraRun();
      expect(ours.length).toBe(reference.length);
      ours.forEach((v, i) => expect(maxDiff(v, reference[i]), `output ${i}`).toBeLessThan(1e-4));
      return [];
    });
    expect(profile.kernelNames).toContain('LoraMatMul');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('can be disposed and used again', async () => {
    await disposeWebgpuBackend();
    expect(tf.getBackend()).toBe('cpu');
    await useBackend('webgpu');
    const y = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])));
    expect(Array.from(await y.data())).toEqual([3, 3, 3, 3]);
    y.dispose();
  });
});
