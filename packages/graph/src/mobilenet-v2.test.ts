// A GraphModel nobody here wrote: nsfwjs's quantised MobileNetV2 (mobilenet_v2_mid: uint8 weights, batch
// norm folded into _FusedConv2D / FusedDepthwiseConv2dNative, ReLU6 epilogues, a _FusedMatMul head).
// LoRA on every pointwise convolution and the head: B = 0 reproduces the model, the trainable count is the
// closed form Σ r·(rows + cols), Adam steps give finite decreasing losses and touch no graph weight, no
// tensor leaks. On wasm (with @tfjs-lora/backend-wasm's training kernels) 3 steps on 2 images; where wasm
// is unavailable, cpu with 2 steps on 1 image.
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { applyLora, createTrainStep } from '@tfjs-lora/core';
import { mobileNetV2GraphArtifacts } from '@tfjs-lora/test-support/mobilenet-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tryBackend } from '../test-support/backend.js';
import './index.js';

/** Pointwise convolutions (expand, project) and the dense head, written with node names. */
export const TARGETS = '.*/(expand|project)/.*|.*/dense/.*';
const R = 4;

describe('nsfwjs MobileNetV2 GraphModel (uint8-quantised)', () => {
  let graph: GraphModel;
  let x: tf.Tensor;
  let wasm: boolean;

  beforeAll(async () => {
    const why = await tryBackend('wasm');
    wasm = why === null;
    if (!wasm) {
      console.warn(`wasm unavailable (${why}); MobileNetV2 test on cpu with 1 image`);
      await tryBackend('cpu');
    }
    graph = await loadGraphModel(tf.io.fromMemory(mobileNetV2GraphArtifacts()));
    x = tf.randomUniform([wasm ? 2 : 1, 224, 224, 3], 0, 1, 'float32', 5);
  });

  afterAll(() => {
    graph.dispose();
    x.dispose();
  });

  it('B = 0 reproduces the model; parameter count is Σ r·(rows + cols)', async () => {
    const lg = applyLora(graph, { r: R, targetModules: TARGETS }, { seed: 1 });
    const modules = lg.adaptedModules();
    expect(modules.filter((m) => m.includes('.expand.'))).toHaveLength(16);
    expect(modules.filter((m) => m.includes('.project.'))).toHaveLength(17);
    expect(modules.filter((m) => m.includes('.dense.'))).toHaveLength(1);
    const expected = lg.targetableModules
      .filter((t) => modules.includes(t.path))
      .reduce(
        (s, t) =>
          s +
          R *
            (t.shape.length === 4 ? t.shape[0]! * t.shape[1]! * t.shape[2]! + t.shape[3]! : t.shape[0]! + t.shape[1]!),
        0,
      );
    expect(lg.trainableParameters().trainable).toBe(expected);
    const [y, base] = [lg.predict(x) as tf.Tensor, graph.predict(x) as tf.Tensor];
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(y, base))));
    expect((await d.data())[0]).toBeLessThan(1e-5); // unfused conv + bias + ReLU6 vs the fused kernel: float32 rounding
    tf.dispose([y, base, d]);
    lg.dispose();
  });

  it('Adam steps: finite, decreasing loss; graph weights untouched; no leaks', async () => {
    const lg = applyLora(graph, { r: R, targetModules: TARGETS }, { seed: 1 });
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(wasm ? [0, 3] : [3], 'int32'), 5));
    const weightsBefore = graph.weights[lg.targetableModules[0]!.weight]![0]!.clone();
    const opt = tf.train.adam(1e-3);
    const step = createTrainStep(lg, { optimizer: opt, loss: 'categoricalCrossentropy' });
    const losses: number[] = [];
    await step(x, labels); // optimizer slots are created on the first step
    const before = tf.memory().numTensors;
    for (let i = 0; i < (wasm ? 3 : 2); i++) losses.push(await step(x, labels));
    expect(tf.memory().numTensors).toBe(before);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(graph.weights[lg.targetableModules[0]!.weight]![0]!, weightsBefore))));
    expect((await d.data())[0]).toBe(0);
    tf.dispose([labels, weightsBefore, d]);
    opt.dispose();
    lg.dispose();
  });
});
