import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { AdapterStateError, LoraConfigError } from './errors/index.js';
import { applyLora } from './apply-lora.js';
import type { LoraModel } from './lora-model.js';
import { svd } from './svd.js';
import { randomiseAdapters } from '../test-support/random-factors.js';

function mlp(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ name: 'fc1', units: 10, inputShape: [7], activation: 'relu' }),
      tfl.layers.dense({ name: 'fc2', units: 6 }),
    ],
  });
}

async function twoAdapters(rB = 3): Promise<{ base: tfl.LayersModel; lm: LoraModel }> {
  const base = mlp();
  const lm = applyLora(base, { targetModules: ['fc1', 'fc2'], r: 3, loraAlpha: 6 });
  lm.addAdapter('b', { targetModules: ['fc1', 'fc2'], r: rB, loraAlpha: 2 });
  randomiseAdapters(lm, 11, 0.4);
  return { base, lm };
}

/** Σ wᵢ·ΔWᵢ (each ΔWᵢ already scaled by its adapter's scaling), per layer. */
function weightedDelta(lm: LoraModel, adapters: string[], weights: number[]): Map<string, tf.Tensor> {
  return new Map(
    lm
      .loraLayers()
      .map(({ path, layer }) => [
        path,
        tf.tidy(() => tf.addN(adapters.map((a, i) => tf.mul(layer.deltaWeight(a), weights[i])))),
      ]),
  );
}

describe('addWeightedAdapter', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it("'cat' gives exactly Σ wᵢΔWᵢ with rank Σ rᵢ (negative weights allowed)", async () => {
    const { base, lm } = await twoAdapters(2);
    const want = weightedDelta(lm, ['default', 'b'], [0.7, -0.4]);
    lm.addWeightedAdapter(['default', 'b'], [0.7, -0.4], 'mix', 'cat');
    expect(lm.peftConfig('mix')).toMatchObject({ r: 5, loraAlpha: 5 });
    for (const { path, layer } of lm.loraLayers()) {
      const got = layer.deltaWeight('mix');
      expect(maxAbsDiff(got, want.get(path)!)).toBeLessThan(1e-5);
      got.dispose();
    }
    want.forEach((t) => t.dispose());
    lm.dispose();
    base.dispose();
  });

  it("'linear' combines the factors: A = Σ√(wᵢsᵢ)Aᵢ, B = Σ√(wᵢsᵢ)Bᵢ (PEFT's definition)", async () => {
    const { base, lm } = await twoAdapters(3);
    lm.addWeightedAdapter(['default', 'b'], [0.5, 2], 'lin', 'linear');
    for (const { layer } of lm.loraLayers()) {
      const d = layer.weightsOf('default');
      const b = layer.weightsOf('b');
      const ka = Math.sqrt(0.5 * d.scaling);
      const kb = Math.sqrt(2 * b.scaling);
      const wantA = tf.tidy(() => tf.add(tf.mul(d.loraA.read(), ka), tf.mul(b.loraA.read(), kb)));
      const wantB = tf.tidy(() => tf.add(tf.mul(d.loraB.read(), ka), tf.mul(b.loraB.read(), kb)));
      expect(maxAbsDiff(layer.weightsOf('lin').loraA.read(), wantA)).toBeLessThan(1e-6);
      expect(maxAbsDiff(layer.weightsOf('lin').loraB.read(), wantB)).toBeLessThan(1e-6);
      expect(layer.weightsOf('lin').scaling).toBe(1);
      tf.dispose([wantA, wantB]);
    }
    lm.dispose();
    base.dispose();
  });

  it("'svd' with enough rank reproduces Σ wᵢΔWᵢ; with less it gives the best rank-k approximation", async () => {
    const { base, lm } = await twoAdapters(3);
    const want = weightedDelta(lm, ['default', 'b'], [1, 0.5]);
    lm.addWeightedAdapter(['default', 'b'], [1, 0.5], 'full', 'svd', { svdRank: 6 });
    lm.addWeightedAdapter(['default', 'b'], [1, 0.5], 'low', 'svd', { svdRank: 2 });
    for (const { path, layer } of lm.loraLayers()) {
      const full = layer.deltaWeight('full');
      expect(maxAbsDiff(full, want.get(path)!)).toBeLessThan(1e-4);
      const low = layer.deltaWeight('low');
      // Eckart–Young: ‖M − M₂‖²_F = Σ_{i>2} σᵢ² (singular values from the separately tested svd()).
      const err = tf.tidy(() => tf.sum(tf.square(tf.sub(want.get(path)!, low))).dataSync()[0]);
      const { u, s, v } = svd(want.get(path)! as tf.Tensor2D);
      const sv = Array.from(s.dataSync());
      tf.dispose([u, s, v]);
      const tail = sv.slice(2).reduce((acc, x) => acc + x * x, 0);
      expect(Math.abs(err - tail)).toBeLessThan(1e-4 * Math.max(1, tail));
      tf.dispose([full, low]);
    }
    want.forEach((t) => t.dispose());
    lm.dispose();
    base.dispose();
  });

  it('validates its arguments', async () => {
    const { base, lm } = await twoAdapters(2);
    expect(() => lm.addWeightedAdapter(['default', 'b'], [1, 1], 'x', 'linear')).toThrow(/equal rank/);
    expect(() => lm.addWeightedAdapter(['default'], [1, 2], 'x', 'cat')).toThrow(LoraConfigError);
    expect(() => lm.addWeightedAdapter(['nope'], [1], 'x', 'cat')).toThrow(AdapterStateError);
    expect(() => lm.addWeightedAdapter(['default'], [1], 'default', 'cat')).toThrow(/exists already/);
    expect(lm.adapterNames).toEqual(['default', 'b']);
    lm.dispose();
    base.dispose();
  });
});
