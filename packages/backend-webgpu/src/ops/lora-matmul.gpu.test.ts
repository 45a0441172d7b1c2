// The fused LoRA matmul on WebGPU against core's composed ops on the cpu backend (the independent
// reference): forward and every gradient within 1e-4, on odd shapes, with and without bias.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of the composed ops
import { useBackend } from '@tfjs-lora/core';
import { composedLoraMatMul } from '@tfjs-lora/core/math';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxDiff } from '@tfjs-lora/test-support';
import { seededValues, webgpuTestEnvironment } from '../../test-support/webgpu-env.js';
import { disposeWebgpuBackend } from '../webgpu-backend.js';
import { webgpuLoraMatMul } from './lora-matmul.js';

const env = await webgpuTestEnvironment('lora-matmul.gpu.test.ts');
const TOL = 1e-4;

interface Case {
  m: number;
  k: number;
  n: number;
  r: number;
  scaling: number;
  bias: boolean;
}

const CASES: Case[] = [
  { m: 37, k: 53, n: 29, r: 5, scaling: 2.5, bias: true },
  { m: 1, k: 7, n: 3, r: 1, scaling: 1, bias: false },
  { m: 65, k: 130, n: 33, r: 17, scaling: 0.5, bias: true },
  { m: 33, k: 40, n: 66, r: 40, scaling: 2, bias: false }, // r > 32: two low-rank tiles
  { m: 64, k: 96, n: 128, r: 8, scaling: 2, bias: true }, // tile-aligned: vec4 reads, forward and dx
  { m: 5, k: 12, n: 8, r: 3, scaling: 1.5, bias: true }, // vec4 reads, partial tiles
  { m: 40, k: 36, n: 20, r: 6, scaling: 3, bias: false }, // vec4 reads, partial tiles, two k tiles
];

type Key = 'y' | 'dx' | 'dA' | 'dB' | 'dbias';
type Result = Partial<Record<Key, Float32Array>>;

/**
 * Forward + gradients of sum(y ⊙ upstream) with the given implementation on the active backend. Reads
 * asynchronously: tfjs-backend-webgpu has no synchronous read in Node (it reads through OffscreenCanvas).
 */
async function run(c: Case, impl: typeof composedLoraMatMul): Promise<Result> {
  const out = tf.tidy(() => {
    const x = tf.tensor2d(seededValues(c.m * c.k, 1), [c.m, c.k]);
    const kernel = tf.tensor2d(seededValues(c.k * c.n, 2, 0.5), [c.k, c.n]);
    const loraA = tf.tensor2d(seededValues(c.k * c.r, 3, 0.5), [c.k, c.r]);
    const loraB = tf.tensor2d(seededValues(c.r * c.n, 4, 0.5), [c.r, c.n]);
    const bias = c.bias ? tf.tensor1d(seededValues(c.n, 5)) : undefined;
    const upstream = tf.tensor2d(seededValues(c.m * c.n, 6), [c.m, c.n]);
    const f = (...t: tf.Tensor[]) =>
      tf.sum(
        tf.mul(
          impl({
            x: t[0] as tf.Tensor2D,
            kernel,
            loraA: t[1] as tf.Tensor2D,
            loraB: t[2] as tf.Tensor2D,
            scaling: c.scaling,
            bias: t[3] as tf.Tensor1D | undefined,
          }),
          upstream,
        ),
      );
    const grads = tf.grads(f)(bias ? [x, loraA, loraB, bias] : [x, loraA, loraB]);
    const y = impl({ x, kernel, loraA, loraB, scaling: c.scaling, bias });
    const named: Partial<Record<Key, tf.Tensor>> = { y, dx: grads[0], dA: grads[1], dB: grads[2] };
    if (bias) named.dbias = grads[3];
    return named as tf.NamedTensorMap;
  });
  const result: Result = {};
  for (const [k, t] of Object.entries(out)) {
    result[k as Key] = (await t.data()) as Float32Array;
    t.dispose();
  }
  return result;
}

describe.skipIf(!env.ok)('webgpuLoraMatMul (fused, WebGPU) vs composedLoraMatMul (cpu)', () => {
  const reference = new Map<Case, Result>();

  beforeAll(async () => {
    await useBackend('cpu');
    for (const c of CASES) reference.set(c, await run(c, composedLoraMatMul));
    await useBackend('webgpu');
  });

  afterAll(async () => {
    await disposeWebgpuBackend();
  });

  it.each(CASES)('m=$m k=$k n=$n r=$r s=$scaling bias=$bias: forward and dx, dA, dB, dbias within 1e-4', async (c) => {
    expect(tf.getBackend()).toBe('webgpu');
    const before = tf.memory().numTensors;
    const ours = await run(c, webgpuLoraMatMul);
    expect(tf.memory().numTensors).toBe(before);
    const ref = reference.get(c)!;
    expect(Object.keys(ours).sort()).toEqual(Object.keys(ref).sort());
    for (const key of Object.keys(ref) as Key[]) expect(maxDiff(ours[key]!, ref[key]!), key).toBeLessThan(TOL);
  });

  it('runs as the LoraMatMul kernel (tf.profile), not as composed ops', async () => {
    const c = CASES[0];
    const info = await tf.profile(async () => {
      await run(c, webgpuLoraMatMul);
      return [];
    });
    expect(info.kernelNames).toContain('LoraMatMul');
    expect(info.kernelNames).not.toContain('Add'); // composed: x·W + bias + s·low needs full-size Adds
  });
});
