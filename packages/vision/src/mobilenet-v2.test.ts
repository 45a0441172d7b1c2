// Integration test on a model nobody here wrote: the Keras MobileNetV2 layers model bundled by nsfwjs
// (BatchNormalization, residual Adds, ReLU6, depthwise convolutions, a 3-layer Dense head). LoRA goes
// into every pointwise convolution and the head by regex; the trainable-parameter count equals the
// closed form Σ r·(in + out); a few training steps change only the adapters (and BatchNorm's running
// statistics, as in PyTorch's train mode); merged == unmerged within 1e-4. 224×224 input (the head's
// 7×7 average pool fixes it), batch 2. Runs on wasm (with @tfjs-lora/backend-wasm's kernels), else
// on cpu with one step on one image.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, type LoraModel } from '@tfjs-lora/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergedVsUnmerged, tensorDiff } from '../test-support/adapter-check.js';
import { fastestBackend } from '../test-support/backend.js';
import { loadMobileNetV2, MOBILENET_HEAD, MOBILENET_POINTWISE } from '@tfjs-lora/test-support/mobilenet-v2';
import { values } from '../test-support/reference.js';
import './index.js';

const R = 4;

describe('MobileNetV2 (nsfwjs bundle): LoRA on pointwise convolutions and head', () => {
  let backend: 'wasm' | 'cpu';
  let base: tfl.LayersModel;
  let lm: LoraModel;
  let x: tf.Tensor;

  beforeAll(async () => {
    backend = await fastestBackend();
    base = await loadMobileNetV2();
    lm = applyLora(
      base,
      { r: R, loraAlpha: 2 * R, targetModules: `${MOBILENET_POINTWISE}|${MOBILENET_HEAD}` },
      { seed: 1 },
    );
    x = tf.tensor(
      values(2 * 224 * 224 * 3, 17).map((v) => v * 0.5 + 0.5),
      [2, 224, 224, 3],
    );
  });

  afterAll(() => {
    x.dispose();
    lm.dispose();
    base.dispose();
  });

  it('wraps the 34 pointwise convolutions and 3 Dense layers, and counts r·(in + out) trainable parameters each', () => {
    const wrapped = lm.loraLayers();
    expect(wrapped).toHaveLength(37);
    expect(wrapped.filter((l) => l.layer.layer.getClassName() === 'Conv2D')).toHaveLength(34);
    let expected = 0;
    for (const { path } of wrapped) {
      const kernel = base.getLayer(path).getWeights()[0];
      const [inF, outF] = kernel.shape.slice(-2);
      expected += R * (inF + outF);
    }
    const counts = lm.trainableParameters();
    console.log(
      `MobileNetV2 LoRA r=${R}: ${counts.trainable} trainable of ${counts.total} (${counts.percent.toFixed(2)}%) on ${backend}`,
    );
    expect(counts.trainable).toBe(expected);
    // BatchNorm's moving mean and variance are buffers, not parameters (as in PyTorch)
    const buffers = base.weights
      .filter((w) => /moving_(mean|variance)$/.test(w.originalName))
      .reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
    expect(counts.total).toBe(base.countParams() - buffers + expected);
  });

  it('trains a few steps (adapters change, base kernels do not) and merged == unmerged within 1e-4', async () => {
    const probe = lm.loraLayers().find((l) => l.path === 'block_16_project')!.layer;
    const kernelBefore = tf.clone(probe.layer.getWeights()[0]);
    const depthwiseBefore = tf.clone(lm.model.getLayer('block_5_depthwise').getWeights()[0]);
    const optimizer = tf.train.adam(1e-3); // passed as an object: the caller's to dispose
    lm.model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    // cpu is ~15x slower: one step on one image there
    const steps = backend === 'wasm' ? 3 : 1;
    const xb = backend === 'wasm' ? x : tf.slice(x, 0, 1);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d([1, 3].slice(0, xb.shape[0]), 'int32'), 5));
    for (let i = 0; i < steps; i++) {
      const loss = (await lm.model.trainOnBatch(xb, y)) as number;
      expect(Number.isFinite(loss)).toBe(true);
    }
    expect(Math.max(...probe.weightsOf('default').loraB.read().dataSync().map(Math.abs))).toBeGreaterThan(0);
    tf.tidy(() => {
      expect(tensorDiff(probe.layer.getWeights()[0], kernelBefore)).toBe(0);
      expect(tensorDiff(lm.model.getLayer('block_5_depthwise').getWeights()[0], depthwiseBefore)).toBe(0);
    });
    expect(mergedVsUnmerged(lm, x)).toBeLessThan(1e-4);
    tf.dispose([kernelBefore, depthwiseBefore, y]);
    if (xb !== x) xb.dispose();
    optimizer.dispose();
  });
});
