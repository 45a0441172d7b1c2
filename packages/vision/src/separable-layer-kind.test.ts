// SeparableConv2D adapter, both parts: base forward vs tfjs-layers, the update against plain-JS
// references (ΔP = A·B on the pointwise kernel; ΔD = A·B on the depthwise kernel), fused == composed,
// merged == unmerged, choosing the part, no tensor leaks.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, findLayerKind } from '@tfjs-lora/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergedVsUnmerged, randomizeFactors, tensorDiff } from '../test-support/adapter-check.js';
import { maxDiff, naiveConv2d, naiveMatMul, values } from '../test-support/reference.js';
import { separableConv2dPointwiseLayerKind, useSeparableConv2dPart, type SeparablePart } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  useSeparableConv2dPart('pointwise');
});

const C = 3;
// Depth multiplier 2: tfjs-layers 4.22 drops depthMultiplier from SeparableConv2D.getConfig(); core
// (ensureLayersConfigFixes) puts it back for applyLora's rebuild and for model.save().
const M = 2;
const O = 5;
const GEOMETRIES = [
  { kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilationRate: [1, 1] },
  { kernelSize: [3, 2], strides: [2, 2], padding: 'valid', dilationRate: [1, 1] },
  { kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilationRate: [2, 2] },
] as const;
type Geo = (typeof GEOMETRIES)[number];

function model(g: Geo, name: string): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.separableConv2d({
        name,
        filters: O,
        depthMultiplier: M,
        kernelSize: [...g.kernelSize],
        strides: [...g.strides],
        padding: g.padding,
        dilationRate: [...g.dilationRate],
        activation: 'relu',
        inputShape: [9, 8, C],
        depthwiseInitializer: 'glorotUniform',
        biasInitializer: 'glorotUniform',
      }),
    ],
  });
}

describe.each(['pointwise', 'depthwise'] as SeparablePart[])('SeparableConv2D adapter, %s part', (part) => {
  beforeAll(() => {
    useSeparableConv2dPart(part);
  });

  it.each(GEOMETRIES.map((g) => [JSON.stringify(g), g] as const))('%s', (_n, g) => {
    const r = 2;
    const name = `sep_${part}`;
    const base = model(g, name);
    const lm = applyLora(base, { r, loraAlpha: 4, targetModules: [name] });
    randomizeFactors(lm, 8);
    const x = tf.tensor(values(2 * 9 * 8 * C, 5), [2, 9, 8, C]);
    const before = tf.memory().numTensors;
    const { layer } = lm.loraLayers()[0];
    expect(layer.kind.name).toBe(`separable-conv2d-${part}`);
    const w = layer.weightsOf('default');
    const [kh, kw] = g.kernelSize;
    const [dKernel, pKernel] = base.layers[0].getWeights();
    const a = w.loraA.read().dataSync();
    const b = w.loraB.read().dataSync();
    const geo = {
      strides: [...g.strides] as [number, number],
      padding: g.padding,
      dilation: [...g.dilationRate] as [number, number],
    };
    // plain JS: B(A(x)) = pointwise(depthwise(x, D), ΔP) or pointwise(depthwise(x, ΔD), P)
    const depthKernel = part === 'pointwise' ? dKernel.dataSync() : naiveMatMul(a, b, kh * kw, r, C * M);
    const pointKernel = part === 'pointwise' ? naiveMatMul(a, b, C * M, r, O) : pKernel.dataSync();
    const h = naiveConv2d(x.dataSync(), x.shape, depthKernel, [kh, kw, C, M], geo, true);
    const ref = naiveConv2d(h.data, h.shape, pointKernel, [1, 1, C * M, O], {
      strides: [1, 1],
      padding: 'valid',
      dilation: [1, 1],
    });
    tf.tidy(() => {
      const act = layer.kind.activate(layer.layer, layer.kind.baseForward(layer.layer, x));
      expect(tensorDiff(act, base.layers[0].apply(x) as tf.Tensor)).toBeLessThan(1e-5);
      const low = layer.kind.loraForward(layer.layer, x, w.loraA.read(), w.loraB.read());
      expect(low.shape).toEqual(ref.shape);
      expect(maxDiff(low.dataSync(), ref.data)).toBeLessThan(1e-5);
      const fused = layer.kind.fusedForward!(layer.layer, {
        x,
        loraA: w.loraA.read(),
        loraB: w.loraB.read(),
        scaling: 2,
      })!;
      expect(tensorDiff(fused, tf.add(layer.kind.baseForward(layer.layer, x), tf.mul(low, 2)))).toBeLessThan(1e-5);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(mergedVsUnmerged(lm, x)).toBeLessThan(1e-5);
    const merged = lm.mergeAndUnload();
    const target = part === 'pointwise' ? 1 : 0;
    tf.tidy(() => {
      const delta = tf.sub(merged.layers[0].getWeights()[target], base.layers[0].getWeights()[target]);
      expect(tensorDiff(delta, layer.deltaWeight('default'))).toBeLessThan(1e-6);
      expect(tensorDiff(merged.layers[0].getWeights()[1 - target], base.layers[0].getWeights()[1 - target])).toBe(0);
    });
    x.dispose(); // getWeights() returns the variables themselves: not disposed here
    merged.dispose();
    lm.dispose();
    base.dispose();
  });
});

describe('SeparableConv2D with a depth multiplier', () => {
  it('the merged model saves and reloads with its depth multiplier (tfjs-layers 4.22 drops it; core restores it)', async () => {
    const base = model(GEOMETRIES[0], 'sep_save');
    const lm = applyLora(base, { r: 2, loraAlpha: 4, targetModules: ['sep_save'] });
    randomizeFactors(lm, 3);
    const merged = lm.mergeAndUnload();
    let artifacts: tf.io.ModelArtifacts | undefined;
    await merged.save(
      tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: {} as tf.io.ModelArtifactsInfo })),
    );
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect((reloaded.layers[0]!.getConfig() as { depthMultiplier?: number }).depthMultiplier).toBe(M);
    const x = tf.tensor(values(2 * 9 * 8 * C, 7), [2, 9, 8, C]);
    const [y0, y1] = [merged.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor];
    expect(tensorDiff(y0, y1)).toBe(0);
    tf.dispose([x, y0, y1]);
    for (const m of [reloaded, merged, lm, base]) m.dispose();
  });
});

describe('SeparableConv2D part selection', () => {
  it('defaults to the pointwise part and switches with useSeparableConv2dPart', () => {
    useSeparableConv2dPart('pointwise');
    expect(findLayerKind('SeparableConv2D')?.name).toBe('separable-conv2d-pointwise');
    expect(separableConv2dPointwiseLayerKind.name).toBe('separable-conv2d-pointwise');
    const dw = useSeparableConv2dPart('depthwise');
    expect(findLayerKind('SeparableConv2D')).toBe(dw);
    useSeparableConv2dPart('pointwise');
    expect(findLayerKind('SeparableConv2D')?.name).toBe('separable-conv2d-pointwise');
  });
});
