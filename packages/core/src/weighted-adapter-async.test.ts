// addWeightedAdapterAsync: the 'svd' combination without synchronous reads. The stand-in backend is tfjs's
// cpu backend and kernels under another name, so canReadSync() is false and the synchronous form must
// refuse, while the async form gives the same factors as the synchronous one on cpu (webgpu itself runs in
// the conformance suite).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { useRenamedCpuBackend } from '@tfjs-lora/test-support/hooks';
import { applyLora } from './apply-lora.js';
import { LoraError } from './errors/index.js';
import type { LoraModel } from './lora-model.js';
import { canReadSync } from './sync-read.js';
import { randomiseAdapters } from '../test-support/random-factors.js';

const OTHER = 'weighted-async-test-no-sync-reads';

function build(): { base: tfl.LayersModel; lm: LoraModel } {
  const base = tfl.sequential({
    layers: [
      tfl.layers.dense({ name: 'fc1', units: 9, inputShape: [6], kernelInitializer: 'glorotUniform' }),
      tfl.layers.dense({ name: 'fc2', units: 5 }),
    ],
  });
  const lm = applyLora(base, { targetModules: ['fc1', 'fc2'], r: 3, loraAlpha: 6 });
  lm.addAdapter('b', { targetModules: ['fc1'], r: 2, loraAlpha: 2 });
  randomiseAdapters(lm, 21, 0.4);
  return { base, lm };
}

async function factors(lm: LoraModel, name: string): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const { layer } of lm.loraLayers()) {
    if (!layer.adapterNames.includes(name)) continue;
    const w = layer.weightsOf(name);
    out.push((await w.loraA.read().data()) as Float32Array, (await w.loraB.read().data()) as Float32Array);
  }
  return out;
}

describe('addWeightedAdapterAsync', () => {
  useRenamedCpuBackend(OTHER);

  it("'svd' gives the synchronous form's factors on cpu; the sync form refuses where reads are async", async () => {
    await tf.setBackend('cpu');
    const ref = build();
    ref.lm.addWeightedAdapter(['default', 'b'], [1, -0.5], 'mix', 'svd', { svdRank: 2 });
    const want = await factors(ref.lm, 'mix');
    ref.lm.dispose();
    ref.base.dispose();

    await tf.setBackend(OTHER);
    expect(canReadSync()).toBe(false);
    const { base, lm } = build();
    expect(() => lm.addWeightedAdapter(['default', 'b'], [1, -0.5], 'mix', 'svd', { svdRank: 2 })).toThrow(
      /addWeightedAdapterAsync/,
    );
    expect(() => lm.addWeightedAdapter(['default', 'b'], [1, -0.5], 'mix', 'svd')).toThrow(LoraError);
    expect(lm.adapterNames).toEqual(['default', 'b']);
    const before = tf.memory().numTensors;
    await lm.addWeightedAdapterAsync(['default', 'b'], [1, -0.5], 'mix', 'svd', { svdRank: 2 });
    // The new adapter's 4 factor variables (A and B on fc1 and fc2) are the only new tensors.
    expect(tf.memory().numTensors).toBe(before + 4);
    const got = await factors(lm, 'mix');
    expect(got).toHaveLength(want.length);
    // Singular vectors have arbitrary signs per pair; compare ΔW = A·B instead of the factors' signs.
    for (let i = 0; i < got.length; i += 2) {
      const shapeA = lm.loraLayers()[i / 2]!.layer.weightsOf('mix').loraA.shape as number[];
      const shapeB = lm.loraLayers()[i / 2]!.layer.weightsOf('mix').loraB.shape as number[];
      const [dGot, dWant] = [got, want].map((f) =>
        tf.tidy(() => tf.matMul(tf.tensor(f[i]!, shapeA), tf.tensor(f[i + 1]!, shapeB))),
      );
      expect(maxAbsDiff(dGot!, dWant!)).toBeLessThan(1e-5);
      tf.dispose([dGot!, dWant!]);
    }
    // 'cat' and 'linear' read nothing: the async form accepts them too.
    await lm.addWeightedAdapterAsync(['default', 'b'], [1, 2], 'cat2', 'cat');
    expect(lm.adapterNames).toContain('cat2');
    lm.dispose();
    base.dispose();
    await tf.setBackend('cpu');
  });
});
