// Conv2DTranspose adapter: base forward vs tfjs-layers, ΔW against a plain-JS closed form, the LoRA
// branch equal to the transposed convolution with ΔW, merged == unmerged, layouts, no tensor leaks.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora } from '@tfjs-lora/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mergedVsUnmerged, randomizeFactors, tensorDiff } from '../test-support/adapter-check.js';
import { maxDiff, values } from '../test-support/reference.js';
import { conv2dTransposeLayerKind } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const GEOMETRIES = [
  { kernelSize: 3, strides: 2, padding: 'same' },
  { kernelSize: 3, strides: 2, padding: 'valid' },
  { kernelSize: 2, strides: 1, padding: 'valid' },
  { kernelSize: 4, strides: 3, padding: 'same' },
] as const;

describe('Conv2DTranspose adapter', () => {
  it.each(GEOMETRIES.map((g) => [JSON.stringify(g), g] as const))('%s', (_n, g) => {
    const [inC, outC, r] = [3, 4, 2];
    const base = tfl.sequential({
      layers: [
        tfl.layers.conv2dTranspose({
          name: 'up',
          filters: outC,
          ...g,
          activation: 'relu',
          inputShape: [5, 4, inC],
          biasInitializer: 'glorotUniform',
        }),
      ],
    });
    const lm = applyLora(base, { r, loraAlpha: 2, targetModules: ['up'] });
    randomizeFactors(lm, 2);
    const x = tf.tensor(values(2 * 5 * 4 * inC, 3), [2, 5, 4, inC]);
    const before = tf.memory().numTensors;
    const { layer } = lm.loraLayers()[0];
    const w = layer.weightsOf('default');
    const k = g.kernelSize;
    expect(w.loraA.shape).toEqual([k, k, r, inC]);
    expect(w.loraB.shape).toEqual([1, 1, r, outC]);
    // ΔW[h, w, o, i] = Σ_k A[h, w, k, i] · B[k, o]
    const a = w.loraA.read().dataSync();
    const b = w.loraB.read().dataSync();
    const dW = new Float64Array(k * k * outC * inC);
    for (let p = 0; p < k * k; p++)
      for (let o = 0; o < outC; o++)
        for (let i = 0; i < inC; i++)
          for (let q = 0; q < r; q++) dW[(p * outC + o) * inC + i] += a[(p * r + q) * inC + i] * b[q * outC + o];
    tf.tidy(() => {
      const act = layer.kind.activate(layer.layer, layer.kind.baseForward(layer.layer, x));
      expect(tensorDiff(act, base.layers[0].apply(x) as tf.Tensor)).toBeLessThan(1e-5);
      expect(maxDiff(layer.kind.deltaWeight(layer.layer, w.loraA.read(), w.loraB.read()).dataSync(), dW)).toBeLessThan(
        1e-6,
      );
      // B(A(x)) is the transposed convolution with ΔW (tfjs's op on the JS-built ΔW)
      const viaDelta = tf.conv2dTranspose(
        x as tf.Tensor4D,
        tf.tensor4d(Float32Array.from(dW), [k, k, outC, inC]),
        [2, ...(layer.kind.baseForward(layer.layer, x).shape.slice(1, 3) as [number, number]), outC],
        g.strides,
        g.padding,
      );
      expect(tensorDiff(layer.kind.loraForward(layer.layer, x, w.loraA.read(), w.loraB.read()), viaDelta)).toBeLessThan(
        1e-5,
      );
      const pa = conv2dTransposeLayerKind.toPeft(layer.layer, 'loraA', w.loraA.read());
      expect(pa.shape).toEqual([inC, r, k, k]);
      expect(tensorDiff(conv2dTransposeLayerKind.fromPeft(layer.layer, 'loraA', pa), w.loraA.read())).toBe(0);
      const pb = conv2dTransposeLayerKind.toPeft(layer.layer, 'loraB', w.loraB.read());
      expect(pb.shape).toEqual([outC, r, 1, 1]);
      expect(tensorDiff(conv2dTransposeLayerKind.fromPeft(layer.layer, 'loraB', pb), w.loraB.read())).toBe(0);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(mergedVsUnmerged(lm, x)).toBeLessThan(1e-5);
    tf.dispose(x);
    lm.dispose();
    base.dispose();
  });

  it('starts at the base output (B = 0) and keeps it with PiSSA', async () => {
    const base = tfl.sequential({
      layers: [
        tfl.layers.conv2dTranspose({
          name: 'up0',
          filters: 4,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          inputShape: [5, 4, 3],
        }),
      ],
    });
    const x = tf.tensor(values(5 * 4 * 3, 9), [1, 5, 4, 3]);
    for (const initLoraWeights of [true, 'pissa'] as const) {
      const lm = await applyLora(base, { r: 2, loraAlpha: 2, initLoraWeights, targetModules: ['up0'] });
      tf.tidy(() => {
        expect(tensorDiff(lm.model.predict(x) as tf.Tensor, base.predict(x) as tf.Tensor)).toBeLessThan(1e-5);
      });
      lm.dispose();
    }
    x.dispose();
    base.dispose();
  });
});
