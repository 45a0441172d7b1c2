// DepthwiseConv2D adapter: the low-rank depthwise update ΔD = A·B against plain-JS references (ΔD,
// depthwise convolution, exact finite differences for the gradients), fused == composed, merged ==
// unmerged, init, layouts, the parameter warning, DoRA refused, no tensor leaks.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, LoraConfigError } from '@tfjs-lora/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { mergedVsUnmerged, randomizeFactors, tensorDiff } from '../test-support/adapter-check.js';
import { maxDiff, naiveConv2d, naiveMatMul, values, type Geometry2D } from '../test-support/reference.js';
import { depthwiseConv2dLayerKind, depthwiseDelta } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Geo {
  kernelSize: [number, number];
  strides: [number, number];
  padding: 'same' | 'valid';
  dilationRate: [number, number];
  depthMultiplier: number;
}
const GEOMETRIES: Geo[] = [
  { kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilationRate: [1, 1], depthMultiplier: 1 },
  { kernelSize: [3, 3], strides: [2, 2], padding: 'same', dilationRate: [1, 1], depthMultiplier: 2 },
  { kernelSize: [3, 2], strides: [1, 2], padding: 'valid', dilationRate: [1, 1], depthMultiplier: 1 },
  { kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilationRate: [2, 2], depthMultiplier: 3 },
];
const C = 4;
const SHAPE = [2, 9, 8, C];

function model(g: Geo, name: string, activation: 'relu6' | 'linear' = 'linear'): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.depthwiseConv2d({
        name,
        activation,
        ...g,
        inputShape: SHAPE.slice(1),
        depthwiseInitializer: 'glorotUniform',
        biasInitializer: 'glorotUniform',
      }),
    ],
  });
}
const input = (shape: number[], seed: number) => tf.tensor(values(tf.util.sizeFromShape(shape), seed), shape);
// tfjs-layers' DepthwiseConv2D ignores its dilationRate when it runs; the adapter follows the layer.
const geometry = (g: Geo): Geometry2D => ({ strides: g.strides, padding: g.padding, dilation: [1, 1] });

/** Σ u · depthwise(x, ΔD) in float64, ΔD = A·B computed in JS: linear in A and in B. */
function jsLoss(
  x: tf.Tensor,
  u: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  g: Geo,
  r: number,
): number {
  const [kh, kw] = g.kernelSize;
  const m = g.depthMultiplier;
  const dD = naiveMatMul(a, b, kh * kw, r, C * m);
  const y = naiveConv2d(x.dataSync(), x.shape, dD, [kh, kw, C, m], geometry(g), true).data;
  return y.reduce((s, v, i) => s + v * u[i], 0);
}

describe('DepthwiseConv2D adapter', () => {
  it.each(GEOMETRIES.map((g) => [JSON.stringify(g), g] as const))('%s', (_n, g) => {
    const r = 3;
    const base = model(g, 'dw');
    const lm = applyLora(base, { r, loraAlpha: 6, targetModules: ['dw'] });
    randomizeFactors(lm, 4);
    const x = input(SHAPE, 12);
    const before = tf.memory().numTensors;
    const { layer } = lm.loraLayers()[0];
    const w = layer.weightsOf('default');
    const [kh, kw] = g.kernelSize;
    const m = g.depthMultiplier;
    expect(w.loraA.shape).toEqual([kh, kw, r]);
    expect(w.loraB.shape).toEqual([r, C, m]);
    const a = w.loraA.read().dataSync();
    const b = w.loraB.read().dataSync();
    const dD = naiveMatMul(a, b, kh * kw, r, C * m);
    const ref = naiveConv2d(x.dataSync(), x.shape, dD, [kh, kw, C, m], geometry(g), true);
    tf.tidy(() => {
      expect(tensorDiff(layer.kind.baseForward(layer.layer, x), base.layers[0].apply(x) as tf.Tensor)).toBeLessThan(
        1e-5,
      );
      expect(maxDiff(depthwiseDelta(w.loraA.read(), w.loraB.read()).dataSync(), dD)).toBeLessThan(1e-6);
      const low = layer.kind.loraForward(layer.layer, x, w.loraA.read(), w.loraB.read());
      expect(low.shape).toEqual(ref.shape);
      expect(maxDiff(low.dataSync(), ref.data)).toBeLessThan(1e-5);
      const fused = depthwiseConv2dLayerKind.fusedForward!(layer.layer, {
        x,
        loraA: w.loraA.read(),
        loraB: w.loraB.read(),
        scaling: 2,
      })!;
      const composed = tf.add(layer.kind.baseForward(layer.layer, x), tf.mul(low, 2));
      expect(tensorDiff(fused, composed)).toBeLessThan(1e-5);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(mergedVsUnmerged(lm, x)).toBeLessThan(1e-5);
    tf.dispose(x);
    lm.dispose();
    base.dispose();
  });

  it('has gradients equal to exact finite differences of a plain-JS forward (the loss is linear in A and in B)', () => {
    const g = GEOMETRIES[1];
    const r = 2;
    const base = model(g, 'dw_grad');
    const lm = applyLora(base, { r, loraAlpha: r, targetModules: ['dw_grad'] }); // scaling 1
    randomizeFactors(lm, 6);
    const x = input(SHAPE, 21);
    const { layer } = lm.loraLayers()[0];
    const w = layer.weightsOf('default');
    const outShape = tf.tidy(() => (lm.model.predict(x) as tf.Tensor).shape);
    const u = values(tf.util.sizeFromShape(outShape), 33);
    const ut = tf.tensor(u, outShape);
    const vars = [w.loraA, w.loraB].map((v) => tf.engine().registeredVariables[v.name]);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(lm.model.apply(x, { training: true }) as tf.Tensor, ut)) as tf.Scalar,
      vars,
    );
    const a = Float64Array.from(w.loraA.read().dataSync());
    const b = Float64Array.from(w.loraB.read().dataSync());
    const l0 = jsLoss(x, u, a, b, g, r);
    for (const [factor, data, grad] of [
      ['A', a, grads[w.loraA.name]],
      ['B', b, grads[w.loraB.name]],
    ] as const) {
      const gd = grad.dataSync();
      for (const i of [0, 1, data.length - 1, Math.floor(data.length / 2)]) {
        const bumped = Float64Array.from(data);
        bumped[i] += 1;
        const l1 = factor === 'A' ? jsLoss(x, u, bumped, b, g, r) : jsLoss(x, u, a, bumped, g, r);
        expect(Math.abs(gd[i] - (l1 - l0)), `d/d${factor}[${i}]`).toBeLessThan(1e-4 * Math.max(1, Math.abs(l1 - l0)));
      }
    }
    tf.dispose([value, ut, x, ...Object.values(grads)]);
    lm.dispose();
    base.dispose();
  });

  it('initialises A kaiming-uniform with fan-in kh·kw and B zero; PiSSA keeps the output', async () => {
    const base = model(GEOMETRIES[0], 'dw_init', 'relu6');
    const lm = applyLora(base, { r: 3, targetModules: ['dw_init'] }, { seed: 4 });
    const w = lm.loraLayers()[0].layer.weightsOf('default');
    const bound = 1 / 3;
    const a = w.loraA.read().dataSync();
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.loraB.read().dataSync().map(Math.abs))).toBe(0);
    const pissa = await applyLora(base, { r: 3, loraAlpha: 3, initLoraWeights: 'pissa', targetModules: ['dw_init'] });
    const x = input(SHAPE, 3);
    tf.tidy(() => {
      expect(tensorDiff(lm.model.predict(x) as tf.Tensor, base.predict(x) as tf.Tensor)).toBe(0);
      expect(tensorDiff(pissa.model.predict(x) as tf.Tensor, base.predict(x) as tf.Tensor)).toBeLessThan(1e-5);
    });
    tf.dispose(x);
    [lm, pissa].forEach((l) => l.dispose());
    base.dispose();
  });

  it('converts factors to its PyTorch-order layout and back', () => {
    const base = model(GEOMETRIES[1], 'dw_layout');
    const lm = applyLora(base, { r: 2, targetModules: ['dw_layout'] });
    randomizeFactors(lm);
    const { layer } = lm.loraLayers()[0];
    const w = layer.weightsOf('default');
    tf.tidy(() => {
      const a = depthwiseConv2dLayerKind.toPeft(layer.layer, 'loraA', w.loraA.read());
      const b = depthwiseConv2dLayerKind.toPeft(layer.layer, 'loraB', w.loraB.read());
      expect(a.shape).toEqual([2, 3, 3]);
      expect(b.shape).toEqual([C * 2, 2]);
      expect(tensorDiff(depthwiseConv2dLayerKind.fromPeft(layer.layer, 'loraA', a), w.loraA.read())).toBe(0);
      expect(tensorDiff(depthwiseConv2dLayerKind.fromPeft(layer.layer, 'loraB', b), w.loraB.read())).toBe(0);
    });
    lm.dispose();
    base.dispose();
  });

  it('warns once naming the layer when r·(kh·kw + C·M) ≥ kh·kw·C·M, and refuses DoRA', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const base = model(GEOMETRIES[0], 'dw_warn');
    const small = applyLora(base, { r: 2, targetModules: ['dw_warn'] }); // 2·13 = 26 < 36
    expect(warn.mock.calls.filter((c) => String(c[0]).includes("'dw_warn'"))).toHaveLength(0);
    const big = applyLora(base, { r: 3, targetModules: ['dw_warn'] }); // 3·13 = 39 ≥ 36
    const again = applyLora(base, { r: 3, targetModules: ['dw_warn'] });
    const calls = warn.mock.calls.filter((c) => String(c[0]).includes("'dw_warn'"));
    expect(calls).toHaveLength(1);
    expect(String(calls[0][0])).toMatch(
      /DepthwiseConv2D 'dw_warn' at r=3 has 39 parameters, not fewer than the 36 of its depthwise kernel/,
    );
    warn.mockRestore();
    expect(() => applyLora(base, { r: 2, useDora: true, targetModules: ['dw_warn'] })).toThrow(LoraConfigError);
    [small, big, again].forEach((l) => l.dispose());
    base.dispose();
  });
});
