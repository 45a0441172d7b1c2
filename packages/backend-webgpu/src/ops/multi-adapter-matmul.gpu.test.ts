// The per-row multi-adapter product (BGMV shrink/expand) on WebGPU against core's composed version on
// the cpu backend: forward and the gradients for x, A and B within 1e-4, rows without an adapter zero.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of the composed ops
import { useBackend } from '@tfjs-lora/core';
import { composedMultiAdapterMatMul } from '@tfjs-lora/core/math';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxDiff } from '@tfjs-lora/test-support';
import { seededValues, webgpuTestEnvironment } from '../../test-support/webgpu-env.js';
import { disposeWebgpuBackend } from '../webgpu-backend.js';
import { webgpuMultiAdapterMatMul } from './multi-adapter-matmul.js';

const env = await webgpuTestEnvironment('multi-adapter-matmul.gpu.test.ts');
const TOL = 1e-4;

interface Case {
  n: number;
  inF: number;
  out: number;
  r: number;
  adapters: number;
}

const CASES: Case[] = [
  { n: 23, inF: 19, out: 27, r: 5, adapters: 3 },
  { n: 1, inF: 3, out: 2, r: 1, adapters: 1 },
  { n: 70, inF: 65, out: 33, r: 16, adapters: 8 },
];

type Key = 'y' | 'dx' | 'dA' | 'dB';

/** Adapter per row: cycles through -1 (no adapter) and every adapter, in a scrambled order. */
function indices(c: Case): Int32Array {
  return Int32Array.from({ length: c.n }, (_, i) => ((i * 7 + 3) % (c.adapters + 1)) - 1);
}

async function run(c: Case, impl: typeof composedMultiAdapterMatMul): Promise<Record<Key, Float32Array>> {
  const out = tf.tidy(() => {
    const x = tf.tensor2d(seededValues(c.n * c.inF, 11), [c.n, c.inF]);
    const loraA = tf.tensor3d(seededValues(c.adapters * c.inF * c.r, 12, 0.5), [c.adapters, c.inF, c.r]);
    const loraB = tf.tensor3d(seededValues(c.adapters * c.r * c.out, 13, 0.5), [c.adapters, c.r, c.out]);
    const scalings = tf.tensor1d(Float32Array.from({ length: c.adapters }, (_, i) => 0.5 + i));
    const adapterIndex = tf.tensor1d(indices(c), 'int32');
    const upstream = tf.tensor2d(seededValues(c.n * c.out, 14), [c.n, c.out]);
    const f = (...t: tf.Tensor[]) =>
      tf.sum(
        tf.mul(
          impl({
            x: t[0] as tf.Tensor2D,
            loraA: t[1] as tf.Tensor3D,
            loraB: t[2] as tf.Tensor3D,
            scalings,
            adapterIndex,
          }),
          upstream,
        ),
      );
    const [dx, dA, dB] = tf.grads(f)([x, loraA, loraB]);
    return { y: impl({ x, loraA, loraB, scalings, adapterIndex }), dx, dA, dB };
  });
  const result = {} as Record<Key, Float32Array>;
  for (const [k, t] of Object.entries(out)) {
    result[k as Key] = (await t.data()) as Float32Array;
    t.dispose();
  }
  return result;
}

describe.skipIf(!env.ok)('webgpuMultiAdapterMatMul (BGMV, WebGPU) vs composedMultiAdapterMatMul (cpu)', () => {
  const reference = new Map<Case, Record<Key, Float32Array>>();

  beforeAll(async () => {
    await useBackend('cpu');
    for (const c of CASES) reference.set(c, await run(c, composedMultiAdapterMatMul));
    await useBackend('webgpu');
  });

  afterAll(async () => {
    await disposeWebgpuBackend();
  });

  it.each(CASES)('n=$n in=$inF out=$out r=$r adapters=$adapters: forward and dx, dA, dB within 1e-4', async (c) => {
    expect(tf.getBackend()).toBe('webgpu');
    const before = tf.memory().numTensors;
    const ours = await run(c, webgpuMultiAdapterMatMul);
    expect(tf.memory().numTensors).toBe(before);
    const ref = reference.get(c)!;
    for (const key of ['y', 'dx', 'dA', 'dB'] as const) expect(maxDiff(ours[key], ref[key]), key).toBeLessThan(TOL);
    // rows without an adapter are exactly zero
    const idx = indices(c);
    for (let i = 0; i < c.n; i++)
      if (idx[i] < 0) expect(ours.y.subarray(i * c.out, (i + 1) * c.out).every((v) => v === 0)).toBe(true);
  });

  it('accepts float adapter indices like the composed version', async () => {
    const y = tf.tidy(() =>
      webgpuMultiAdapterMatMul({
        x: tf.ones([2, 3]),
        loraA: tf.ones([2, 3, 1]),
        loraB: tf.ones([2, 1, 2]),
        scalings: tf.tensor1d([1, 2]),
        adapterIndex: tf.tensor1d([1, -1]),
      }),
    );
    expect(Array.from(await y.data())).toEqual([6, 6, 0, 0]);
    y.dispose();
  });
});
