// Conv2D and Conv1D adapters: base forward vs tfjs-layers, the LoRA branch vs a plain-JS convolution
// with ΔW, merged == unmerged, PEFT's init rules (kaiming A, zero B; PiSSA; DoRA at init), layouts,
// errors, the parameter warning, training only A/B, save/load, and no tensor leaks.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, LoraConfigError, type LoraConfigInput } from '@tfjs-lora/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { mergedVsUnmerged, randomizeFactors, tensorDiff } from '../test-support/adapter-check.js';
import { maxDiff, naiveConv2d, naiveMatMul, values } from '../test-support/reference.js';
import { mergedIsCheaper } from './conv-layer-kind.js';
import { conv1dLayerKind, conv2dLayerKind } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Geo {
  kernelSize: [number, number];
  strides: [number, number];
  padding: 'same' | 'valid';
  dilationRate: [number, number];
}
const GEOMETRIES: Geo[] = [
  { kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilationRate: [1, 1] },
  { kernelSize: [3, 2], strides: [2, 2], padding: 'valid', dilationRate: [1, 1] },
  { kernelSize: [2, 3], strides: [1, 2], padding: 'same', dilationRate: [1, 1] },
  { kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilationRate: [2, 2] },
  { kernelSize: [1, 1], strides: [1, 1], padding: 'valid', dilationRate: [1, 1] },
  { kernelSize: [1, 1], strides: [2, 2], padding: 'same', dilationRate: [1, 1] },
];

function convModel(g: Geo, name: string, activation: 'relu' | 'linear' = 'relu'): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        name,
        filters: 5,
        activation,
        ...g,
        inputShape: [9, 8, 3],
        kernelInitializer: 'glorotUniform',
        biasInitializer: 'glorotUniform',
      }),
    ],
  });
}

const input = (shape: number[], seed: number) => tf.tensor(values(tf.util.sizeFromShape(shape), seed), shape);

describe('Conv2D adapter', () => {
  it.each(GEOMETRIES.map((g) => [JSON.stringify(g), g] as const))(
    '%s: base, LoRA branch vs JS conv of ΔW, merge',
    (_n, g) => {
      const base = convModel(g, 'c');
      const lm = applyLora(base, { r: 3, loraAlpha: 6, targetModules: ['c'] });
      randomizeFactors(lm, 5);
      const x = input([2, 9, 8, 3], 11);
      const before = tf.memory().numTensors;
      const { layer } = lm.loraLayers()[0];
      const w = layer.weightsOf('default');
      // the base forward (pre-activation, then activation) is the tfjs-layers layer's own output
      tf.tidy(() => {
        const ours = layer.kind.activate(layer.layer, layer.kind.baseForward(layer.layer, x));
        expect(tensorDiff(ours, base.layers[0].apply(x) as tf.Tensor)).toBeLessThan(1e-5);
      });
      // B(A(x)) equals a plain-JS convolution with ΔW = A·B (the merge identity, from an independent conv)
      const [kh, kw] = g.kernelSize;
      const dW = naiveMatMul(w.loraA.read().dataSync(), w.loraB.read().dataSync(), kh * kw * 3, 3, 5);
      const ref = naiveConv2d(x.dataSync(), x.shape, dW, [kh, kw, 3, 5], {
        strides: g.strides,
        padding: g.padding,
        dilation: g.dilationRate,
      });
      tf.tidy(() => {
        const low = layer.kind.loraForward(layer.layer, x, w.loraA.read(), w.loraB.read());
        expect(low.shape).toEqual(ref.shape);
        expect(maxDiff(low.dataSync(), ref.data)).toBeLessThan(1e-5);
        expect(
          maxDiff(
            layer.deltaWeight('default').dataSync(),
            dW.map((v) => v * 2),
          ),
        ).toBeLessThan(1e-6);
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(mergedVsUnmerged(lm, x)).toBeLessThan(1e-5);
      tf.dispose(x);
      lm.dispose();
      base.dispose();
    },
  );

  it('takes the cheaper exact forward form: merged kernel for small kernels, base + A·(sB) for wide ones', () => {
    expect(mergedIsCheaper(9, 32, 8)).toBe(true); // a first conv on one channel
    expect(mergedIsCheaper(288, 64, 8)).toBe(false);
    for (const [inC, filters] of [
      [1, 4],
      [6, 24],
    ] as const) {
      const base = tfl.sequential({
        layers: [
          tfl.layers.conv2d({
            name: 'f',
            filters,
            kernelSize: 3,
            inputShape: [7, 7, inC],
            biasInitializer: 'glorotUniform',
          }),
        ],
      });
      const lm = applyLora(base, { r: 2, loraAlpha: 6, targetModules: ['f'] });
      randomizeFactors(lm, 7);
      const { layer } = lm.loraLayers()[0];
      const w = layer.weightsOf('default');
      const x = input([2, 7, 7, inC], 3);
      tf.tidy(() => {
        const fused = conv2dLayerKind.fusedForward!(layer.layer, {
          x,
          loraA: w.loraA.read(),
          loraB: w.loraB.read(),
          scaling: 3,
        })!;
        const composed = tf.add(
          layer.kind.baseForward(layer.layer, x),
          tf.mul(layer.kind.loraForward(layer.layer, x, w.loraA.read(), w.loraB.read()), 3),
        );
        expect(tensorDiff(fused, composed)).toBeLessThan(1e-5);
      });
      x.dispose();
      lm.dispose();
      base.dispose();
    }
  });

  it('initialises as PEFT: A kaiming-uniform with fan-in kh·kw·in, B zero (output = base)', () => {
    const base = convModel(GEOMETRIES[0], 'c');
    const lm = applyLora(base, { r: 4, targetModules: ['c'] }, { seed: 3 });
    const w = lm.loraLayers()[0].layer.weightsOf('default');
    const a = w.loraA.read().dataSync();
    const bound = 1 / Math.sqrt(3 * 3 * 3);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(Math.max(...w.loraB.read().dataSync().map(Math.abs))).toBe(0);
    const x = input([1, 9, 8, 3], 2);
    tf.tidy(() => {
      expect(tensorDiff(lm.model.predict(x) as tf.Tensor, base.predict(x) as tf.Tensor)).toBe(0);
    });
    tf.dispose(x);
    lm.dispose();
    base.dispose();
  });

  it.each([
    ['pissa', { initLoraWeights: 'pissa' }],
    ['olora', { initLoraWeights: 'olora' }],
    ['DoRA', { useDora: true }],
  ] as const)('%s keeps the base output at init and merges exactly', async (_n, extra) => {
    const base = convModel(GEOMETRIES[1], 'c', 'linear');
    const config: LoraConfigInput = { r: 3, loraAlpha: 3, targetModules: ['c'], ...extra };
    const lm = await applyLora(base, config, { seed: 1 });
    const x = input([2, 9, 8, 3], 4);
    tf.tidy(() => {
      expect(tensorDiff(lm.model.predict(x) as tf.Tensor, base.predict(x) as tf.Tensor)).toBeLessThan(1e-5);
    });
    randomizeFactors(lm, 9, 0.1);
    expect(mergedVsUnmerged(lm, x)).toBeLessThan(1e-5);
    tf.dispose(x);
    lm.dispose();
    base.dispose();
  });

  it('converts factors to and from PEFT layout ([r, in, kh, kw] and [out, r, 1, 1])', () => {
    const base = convModel(GEOMETRIES[1], 'c');
    const lm = applyLora(base, { r: 2, targetModules: ['c'] });
    randomizeFactors(lm);
    const { layer } = lm.loraLayers()[0];
    const w = layer.weightsOf('default');
    tf.tidy(() => {
      const a = conv2dLayerKind.toPeft(layer.layer, 'loraA', w.loraA.read());
      const b = conv2dLayerKind.toPeft(layer.layer, 'loraB', w.loraB.read());
      expect(a.shape).toEqual([2, 3, 3, 2]);
      expect(b.shape).toEqual([5, 2, 1, 1]);
      // element [r=1, in=2, kh=2, kw=1] of PEFT's tensor is element [2, 1, 2, 1] of ours
      expect(a.arraySync() as number[][][][]).toHaveProperty(
        [1, 2, 2, 1],
        (w.loraA.read().arraySync() as number[][][][])[2][1][2][1],
      );
      expect(tensorDiff(conv2dLayerKind.fromPeft(layer.layer, 'loraA', a), w.loraA.read())).toBe(0);
      expect(tensorDiff(conv2dLayerKind.fromPeft(layer.layer, 'loraB', b), w.loraB.read())).toBe(0);
    });
    lm.dispose();
    base.dispose();
  });

  it('trains A and B only, and saves and loads as a LoRA model', async () => {
    const base = convModel(GEOMETRIES[0], 'c');
    const lm = applyLora(base, { r: 2, targetModules: ['c'] }, { seed: 2 });
    const kernelBefore = tf.clone(base.layers[0].getWeights()[0]);
    const optimizer = tf.train.sgd(0.1); // passed as an object: the caller's to dispose
    lm.model.compile({ optimizer, loss: 'meanSquaredError' });
    const x = input([4, 9, 8, 3], 6);
    const y = tf.tidy(() => tf.mul(input([4, 9, 8, 5], 7), 0.5));
    await lm.model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
    const w = lm.loraLayers()[0].layer.weightsOf('default');
    expect(Math.max(...w.loraB.read().dataSync().map(Math.abs))).toBeGreaterThan(0);
    tf.tidy(() => {
      expect(tensorDiff(lm.loraLayers()[0].layer.layer.getWeights()[0], kernelBefore)).toBe(0);
    });
    let saved: tf.io.ModelArtifacts | undefined;
    await lm.model.save(
      tf.io.withSaveHandler(
        async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
      ),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    tf.tidy(() => {
      expect(tensorDiff(loaded.predict(x) as tf.Tensor, lm.model.predict(x) as tf.Tensor)).toBeLessThan(1e-6);
    });
    tf.dispose([x, y, kernelBefore]);
    optimizer.dispose();
    loaded.dispose();
    lm.dispose();
    base.dispose();
  });

  it('refuses channelsFirst layers with a LoraConfigError that says what to do', () => {
    const base = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          name: 'cf',
          filters: 2,
          kernelSize: 3,
          dataFormat: 'channelsFirst',
          inputShape: [3, 8, 8],
        }),
      ],
    });
    expect(() => applyLora(base, { r: 2, targetModules: ['cf'] })).toThrow(LoraConfigError);
    expect(() => applyLora(base, { r: 2, targetModules: ['cf'] })).toThrow(
      /expects dataFormat 'channelsLast'; found 'channelsFirst'/,
    );
    base.dispose();
  });

  it('warns once, naming the layer, when the adapter is not smaller than the kernel', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const base = tfl.sequential({
      layers: [tfl.layers.conv2d({ name: 'tiny_conv', filters: 2, kernelSize: 1, inputShape: [4, 4, 2] })],
    });
    const lm = applyLora(base, { r: 2, targetModules: ['tiny_conv'] }); // adapter 2·(2+2) = 8 ≥ kernel 4
    const again = applyLora(base, { r: 2, targetModules: ['tiny_conv'] });
    const calls = warn.mock.calls.filter((c) => String(c[0]).includes("'tiny_conv'"));
    expect(calls).toHaveLength(1);
    expect(String(calls[0][0])).toMatch(/r=2 has 8 parameters, not fewer than the 4 of its kernel/);
    warn.mockRestore();
    [lm, again].forEach((m) => m.dispose());
    base.dispose();
  });
});

describe('Conv1D adapter', () => {
  it.each([
    [3, 1, 'same', 1],
    [3, 2, 'valid', 1],
    [2, 1, 'same', 2],
  ] as const)('kernel %i stride %i %s dilation %i: base, LoRA branch vs JS conv, merge', (k, s, padding, d) => {
    const base = tfl.sequential({
      layers: [
        tfl.layers.conv1d({
          name: 'c1',
          filters: 4,
          kernelSize: k,
          strides: s,
          padding,
          dilationRate: d,
          inputShape: [11, 3],
          biasInitializer: 'glorotUniform',
        }),
      ],
    });
    const lm = applyLora(base, { r: 2, loraAlpha: 4, targetModules: ['c1'] });
    randomizeFactors(lm, 3);
    const x = input([2, 11, 3], 8);
    const { layer } = lm.loraLayers()[0];
    const w = layer.weightsOf('default');
    expect(w.loraA.shape).toEqual([k, 3, 2]);
    expect(w.loraB.shape).toEqual([1, 2, 4]);
    tf.tidy(() => {
      expect(tensorDiff(layer.kind.baseForward(layer.layer, x), base.layers[0].apply(x) as tf.Tensor)).toBeLessThan(
        1e-5,
      );
      // a 1-D convolution is a 2-D one over a height-1 image
      const dW = naiveMatMul(w.loraA.read().dataSync(), w.loraB.read().dataSync(), k * 3, 2, 4);
      const ref = naiveConv2d(x.dataSync(), [2, 1, 11, 3], dW, [1, k, 3, 4], {
        strides: [1, s],
        padding,
        dilation: [1, d],
      });
      const low = layer.kind.loraForward(layer.layer, x, w.loraA.read(), w.loraB.read());
      expect(maxDiff(low.dataSync(), ref.data)).toBeLessThan(1e-5);
      expect(conv1dLayerKind.toPeft(layer.layer, 'loraA', w.loraA.read()).shape).toEqual([2, 3, k]);
    });
    expect(mergedVsUnmerged(lm, x)).toBeLessThan(1e-5);
    tf.dispose(x);
    lm.dispose();
    base.dispose();
  });
});
