// Conv LoRA with hand-written gradients against an independent reference: tfjs autodiff of the composed
// convolutions (conv2d(x, W) + b + s·conv2d(xLora, A)·B) on the cpu backend, over geometries (stride,
// padding, non-square kernels, pointwise), ranks 1/4/8, bias, a separate LoRA input (dropout), rsLoRA;
// then through LoRA Conv2D / SeparableConv2D layers (trainable bias, trainable-kernel fallback) and a
// training step that leaks nothing.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, scalingFor, type LoraModel } from '@tfjs-lora/core';
import { requireWeight } from '@tfjs-lora/core/math';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomizeFactors, tensorDiff } from '../test-support/adapter-check.js';
import { values } from '../test-support/reference.js';
import { type ConvGeometry } from './conv-geometry.js';
import { loraConv, loraConvSupports } from './conv-lora-grad.js';
import './index.js';

const TOL = 2e-5;
let seed = 11;
const rand = (shape: number[]) => tf.tensor(values(tf.util.sizeFromShape(shape), seed++), shape);

/** Max difference relative to the reference's largest entry (at least 1). */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const scale = tf.tidy(() => tf.max(tf.abs(b)).dataSync()[0]);
  return tensorDiff(a, b) / Math.max(1, scale);
}

const GEOMETRIES: ConvGeometry[] = [
  { kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilationRate: [1, 1] },
  { kernelSize: [3, 2], strides: [2, 2], padding: 'valid', dilationRate: [1, 1] },
  { kernelSize: [2, 3], strides: [1, 2], padding: 'same', dilationRate: [1, 1] },
  { kernelSize: [1, 1], strides: [1, 1], padding: 'valid', dilationRate: [1, 1] },
  { kernelSize: [1, 1], strides: [2, 2], padding: 'same', dilationRate: [1, 1] },
];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('loraConv: hand-written gradient vs autodiff (cpu)', () => {
  const cases = GEOMETRIES.flatMap((g, i) =>
    [1, 4, 8].map((r, j) => ({ g, r, bias: (i + j) % 2 === 0, split: j === 1, rslora: j === 2 })),
  );
  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('%s', (_n, c) => {
    const before = tf.memory().numTensors;
    const [inC, outC] = [3, 5];
    const x = rand([2, 7, 6, inC]) as tf.Tensor4D;
    const xl = c.split ? tf.tidy(() => tf.mul(x, tf.cast(tf.greater(rand(x.shape), 0), 'float32'))) : x;
    const w = rand([...c.g.kernelSize, inC, outC]) as tf.Tensor4D;
    const a = rand([...c.g.kernelSize, inC, c.r]) as tf.Tensor4D;
    const b = rand([1, 1, c.r, outC]) as tf.Tensor4D;
    const bias = c.bias ? rand([outC]) : undefined;
    const s = scalingFor(c.r, 3, c.rslora);
    const st = c.g.strides as [number, number];
    const reference = (xi: tf.Tensor, xli: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor, biasi?: tf.Tensor) => {
      const y = tf.add(
        tf.conv2d(xi as tf.Tensor4D, w, st, c.g.padding),
        tf.mul(
          tf.conv2d(tf.conv2d(xli as tf.Tensor4D, ai as tf.Tensor4D, st, c.g.padding), bi as tf.Tensor4D, 1, 'valid'),
          s,
        ),
      );
      return biasi ? tf.add(y, biasi) : y;
    };
    const ours = (xi: tf.Tensor, xli: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor, biasi?: tf.Tensor) =>
      loraConv({
        x: xi,
        kernel: w,
        loraA: ai,
        loraB: bi,
        scaling: s,
        geometry: c.g,
        ...(biasi ? { bias: biasi } : {}),
        ...(c.split ? { loraInput: xli } : {}),
      });
    const dy = tf.tidy(() => rand(reference(x, xl, a, b, bias).shape));
    const grads = (f: typeof reference) =>
      tf.grads((xi: tf.Tensor, xli: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor, biasi?: tf.Tensor) =>
        tf.sum(tf.mul(f(xi, c.split ? xli : xi, ai, bi, biasi), dy)),
      )(bias ? [x, xl, a, b, bias] : [x, xl, a, b]);
    expect(loraConvSupports(c.g)).toBe(true);
    const got = grads(ours);
    const want = grads(reference);
    tf.tidy(() => {
      expect(relDiff(ours(x, xl, a, b, bias), reference(x, xl, a, b, bias))).toBeLessThan(TOL);
    });
    ['x', 'loraInput', 'A', 'B', 'bias'].slice(0, want.length).forEach((name, i) => {
      if (!c.split && name === 'loraInput') return;
      expect(relDiff(got[i], want[i]), name).toBeLessThan(TOL);
    });
    tf.dispose([...got, ...want, x, w, a, b, dy, ...(bias ? [bias] : []), ...(c.split ? [xl] : [])]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('does not take dilated convolutions (tfjs has no dilated conv2d gradient)', () => {
    expect(loraConvSupports({ kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilationRate: [2, 2] })).toBe(
      false,
    );
  });
});

/** The model's output recomputed from the LoRA layer's weights with plain ops (autodiff reference). */
function reference(lm: LoraModel, x: tf.Tensor, separable: boolean): tf.Tensor {
  const { layer } = lm.loraLayers()[0];
  const w = layer.weightsOf('default');
  const bias = layer.kind.bias(layer.layer)?.read();
  const g = { strides: [1, 1] as [number, number], pad: 'same' as const };
  const h = separable
    ? tf.depthwiseConv2d(
        x as tf.Tensor4D,
        requireWeight(layer.layer, 'depthwise_kernel').read() as tf.Tensor4D,
        g.strides,
        g.pad,
      )
    : x;
  const inner = separable ? 'pointwise_kernel' : 'kernel';
  const base = tf.conv2d(h as tf.Tensor4D, requireWeight(layer.layer, inner).read() as tf.Tensor4D, g.strides, g.pad);
  const low = tf.conv2d(
    tf.conv2d(h as tf.Tensor4D, w.loraA.read() as tf.Tensor4D, g.strides, g.pad),
    w.loraB.read() as tf.Tensor4D,
    1,
    'valid',
  );
  const y = tf.add(base, tf.mul(low, w.scaling));
  return tf.relu(bias ? tf.add(y, bias) : y);
}

describe('LoRA Conv2D / SeparableConv2D layers with hand-written gradients (cpu)', () => {
  it.each([
    ['Conv2D 3×3, frozen bias', false, 'none', false],
    ['Conv2D 3×3, trainable bias (bias: all)', false, 'all', false],
    ['Conv2D 3×3, kernel made trainable (autodiff fallback)', false, 'none', true],
    ['SeparableConv2D pointwise, trainable bias', true, 'all', false],
  ] as const)('%s: gradients of every trainable variable match autodiff', (_n, separable, biasMode, kernelTrains) => {
    const spec = {
      name: 'c',
      filters: 6,
      kernelSize: 3,
      padding: 'same' as const,
      activation: 'relu' as const,
      inputShape: [6, 5, 4],
      biasInitializer: 'glorotUniform' as const,
    };
    const base = tfl.sequential({ layers: [separable ? tfl.layers.separableConv2d(spec) : tfl.layers.conv2d(spec)] });
    const lm = applyLora(base, { r: 3, loraAlpha: 6, targetModules: ['c'], bias: biasMode }, { seed: 2 });
    randomizeFactors(lm, 5);
    if (kernelTrains) requireWeight(lm.loraLayers()[0].layer.layer, 'kernel').trainable = true;
    const x = rand([2, 6, 5, 4]);
    const vars = lm.model.trainableWeights.map((v) => v.read() as tf.Variable);
    expect(vars.length).toBe(2 + (biasMode === 'all' ? 1 : 0) + (kernelTrains ? 1 : 0));
    const before = tf.memory().numTensors;
    const got = tf.variableGrads(
      () => tf.sum(tf.square(lm.model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
      vars,
    );
    const want = tf.variableGrads(() => tf.sum(tf.square(reference(lm, x, separable))) as tf.Scalar, vars);
    for (const v of vars) expect(relDiff(got.grads[v.name], want.grads[v.name]), v.name).toBeLessThan(TOL);
    tf.dispose([got.value, want.value, ...Object.values(got.grads), ...Object.values(want.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    lm.dispose();
    base.dispose();
  });

  it('trains with LoRA dropout and optimizer.minimize without leaking tensors', () => {
    const base = tfl.sequential({
      layers: [tfl.layers.conv2d({ name: 'c', filters: 6, kernelSize: 3, inputShape: [6, 5, 4] })],
    });
    const lm = applyLora(base, { r: 2, targetModules: ['c'], loraDropout: 0.3 }, { seed: 2 });
    const x = rand([2, 6, 5, 4]);
    const opt = tf.train.adam(1e-2);
    const vars = lm.model.trainableWeights.map((v) => v.read() as tf.Variable);
    const step = () =>
      tf.dispose(
        opt.minimize(
          () => tf.mean(tf.square(lm.model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
          true,
          vars,
        )!,
      );
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    expect(
      tf.tidy(() => tf.max(tf.abs(lm.loraLayers()[0].layer.weightsOf('default').loraB.read())).dataSync()[0]),
    ).toBeGreaterThan(0);
    opt.dispose();
    tf.dispose(x);
    lm.dispose();
    base.dispose();
  });
});
