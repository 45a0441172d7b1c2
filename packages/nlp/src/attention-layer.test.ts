// ScaledDotProductAttention against a plain float64 implementation of softmax(q·kᵀ/√dh + mask)·v.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeMismatchError } from '@tfjs-lora/core';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { ScaledDotProductAttention } from './attention-layer.js';

/** Reference attention on nested arrays [b][t][d], in float64. */
function reference(q: number[][][], k: number[][][], v: number[][][], heads: number, causal: boolean): number[][][] {
  const d = q[0]![0]!.length;
  const dh = d / heads;
  return q.map((qb, b) =>
    qb.map((_, i) => {
      const out = new Array<number>(d).fill(0);
      for (let h = 0; h < heads; h++) {
        const cols = [...Array(dh).keys()].map((c) => h * dh + c);
        const scores = k[b]!.map((kj, j) =>
          causal && j > i ? -Infinity : cols.reduce((s, c) => s + q[b]![i]![c]! * kj[c]!, 0) / Math.sqrt(dh),
        );
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((a, x) => a + x, 0);
        for (const c of cols) out[c] = e.reduce((s, ej, j) => s + (ej / z) * v[b]![j]![c]!, 0);
      }
      return out;
    }),
  );
}

describe('ScaledDotProductAttention', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each([false, true])('equals the float64 reference (causal %s), separate and fused inputs', (causal) => {
    const [q, k, v] = [1, 2, 3].map((s) => tf.randomNormal([2, 5, 8], 0, 1, 'float32', s));
    const expected = tf.tensor(
      reference(...([q, k, v].map((t) => t!.arraySync()) as [number[][][], number[][][], number[][][]]), 2, causal),
    );
    const before = tf.memory().numTensors;
    const separate = new ScaledDotProductAttention({ numHeads: 2, causal }).apply([q!, k!, v!]) as tf.Tensor;
    const fusedInput = tf.concat([q!, k!, v!], 2);
    const fused = new ScaledDotProductAttention({ numHeads: 2, causal, fused: true }).apply(fusedInput) as tf.Tensor;
    expect(maxAbsDiff(separate, expected)).toBeLessThan(1e-5);
    expect(maxAbsDiff(fused, separate)).toBe(0);
    tf.dispose([separate, fused, fusedInput]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([q!, k!, v!, expected]);
  });

  it('computes symbolic output shapes and round-trips its config', () => {
    const x = tfl.input({ shape: [null, 12] });
    const y = new ScaledDotProductAttention({ name: 'sdpa', numHeads: 3, causal: true }).apply([
      x,
      x,
      x,
    ]) as tfl.SymbolicTensor;
    expect(y.shape).toEqual([null, null, 12]);
    const f = new ScaledDotProductAttention({ numHeads: 3, fused: true }).apply(
      tfl.input({ shape: [7, 36] }),
    ) as tfl.SymbolicTensor;
    expect(f.shape).toEqual([null, 7, 12]);
    const layer = y.sourceLayer as ScaledDotProductAttention;
    const copy = ScaledDotProductAttention.fromConfig(
      ScaledDotProductAttention,
      layer.getConfig(),
    ) as ScaledDotProductAttention;
    expect([copy.numHeads, copy.causal, copy.fused]).toEqual([3, true, false]);
  });

  it('says what is wrong with mismatched inputs', () => {
    const layer = new ScaledDotProductAttention({ name: 'attn', numHeads: 3 });
    const [a, b] = [tf.zeros([1, 2, 6]), tf.zeros([1, 3, 6])];
    expect(() => layer.apply([a, a, b])).toThrow(ShapeMismatchError);
    expect(() => new ScaledDotProductAttention({ numHeads: 4 }).apply([a, a, a])).toThrow(
      /not divisible by numHeads 4/,
    );
    tf.dispose([a, b]);
  });
});
