// The 'wasm' LoRA backend plugin: registration on import, availability with reasons, Node wasm paths,
// selection by priority, and the training kernels registered for 'wasm'.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, getLoraBackend, listLoraBackends, LoraError, useBackend } from '@tfjs-lora/core';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registerWasmBackend, wasmBackend } from './index.js';
import { trainingKernelConfigs } from './register-kernels.js';
import { nodeWasmFolder } from './wasm-backend.js';

describe('wasm LoRA backend', () => {
  it('registers itself on import, between GPUs and cpu', () => {
    expect(getLoraBackend('wasm')).toBe(wasmBackend);
    expect(wasmBackend.priority).toBeGreaterThan(getLoraBackend('cpu')!.priority);
    expect(wasmBackend.priority).toBeLessThan(50);
    const names = listLoraBackends().map((b) => b.name);
    expect(names.indexOf('wasm')).toBeLessThan(names.indexOf('cpu'));
  });

  it('registers the four training kernels for wasm', () => {
    expect(trainingKernelConfigs.map((k) => k.kernelName).sort()).toEqual(
      [
        'Conv2DBackpropFilter',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
        'UnsortedSegmentSum',
      ].sort(),
    );
    for (const k of trainingKernelConfigs) expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).toBe(k.kernelFunc);
  });

  it('finds the wasm binaries of the installed package in Node', async () => {
    const folder = await nodeWasmFolder();
    expect(folder.endsWith('/')).toBe(true);
    expect(existsSync(`${folder}tfjs-backend-wasm-simd.wasm`)).toBe(true);
  });

  it('says why it is unavailable when the binaries are not where it was told', async () => {
    registerWasmBackend({ wasmPaths: '/nonexistent-folder/' });
    const a = await wasmBackend.isAvailable();
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(/wasm binaries are missing: \/nonexistent-folder\/tfjs-backend-wasm\.wasm/);
    registerWasmBackend({ wasmPaths: await nodeWasmFolder() });
    expect(await wasmBackend.isAvailable()).toEqual({ ok: true });
  });

  it("is what useBackend('auto') picks when no GPU backend is registered, and it trains a conv", async () => {
    const chosen = await useBackend('auto');
    expect(chosen.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => {
      const x = tf.ones([1, 5, 5, 2]) as tf.Tensor4D;
      return tf.grad((f) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 'valid')))(tf.zeros([3, 3, 2, 1]));
    });
    // Each filter tap sees a 3x3 window of ones: the gradient of the sum is 9 everywhere.
    expect(Array.from(g.dataSync())).toEqual(new Array(18).fill(9));
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('README example: LoRA on the head, the conv trained fully, on wasm', async () => {
    const backend = await useBackend('auto');
    const base = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ name: 'conv', filters: 16, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
        tfl.layers.flatten({ name: 'flatten' }),
        tfl.layers.dense({ name: 'head', units: 10, activation: 'softmax' }),
      ],
    });
    const lora = applyLora(base, { r: 4, loraAlpha: 8, targetModules: ['head'], modulesToSave: ['conv'] });
    const optimizer = tf.train.adam(1e-3); // passed as an object: the caller's to dispose
    lora.model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const xs = tf.randomUniform([8, 28, 28, 1]);
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10));
    const convBefore = tf.clone(lora.model.getLayer('conv').getWeights()[0]);
    const loss = (await lora.model.trainOnBatch(xs, ys)) as number;
    expect(backend.name).toBe('wasm');
    expect(Number.isFinite(loss)).toBe(true);
    const moved = tf.tidy(
      () => tf.max(tf.abs(tf.sub(lora.model.getLayer('conv').getWeights()[0], convBefore))).dataSync()[0],
    );
    expect(moved).toBeGreaterThan(0);
    tf.dispose([xs, ys, convBefore]);
    optimizer.dispose();
    lora.dispose();
    base.dispose();
  });

  it('refuses new wasm paths once the backend is initialised', () => {
    expect(() => registerWasmBackend({ wasmPaths: '/elsewhere/' })).toThrow(LoraError);
    expect(() => registerWasmBackend()).not.toThrow();
  });
});
