// The JavaScript Transpose on wasm against the cpu backend: random shapes, permutations and dtypes.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients
import { beforeAll, describe, expect, it } from 'vitest';
import { gradientOnBoth, onBoth, setUpBackends, values } from '../../test-support/kernel-check.js';
import { javascriptIsFaster, transpose } from './Transpose.js';

const DTYPES = ['float32', 'int32', 'bool'] as const;

/** Deterministic random cases: rank 1–5, sizes 1–40 (some size 1), a permutation, a dtype. */
function cases(count: number): { shape: number[]; perm: number[]; dtype: (typeof DTYPES)[number] }[] {
  const r = values(count * 20, 23);
  let k = 0;
  const next = () => (r[k++] + 1) / 2;
  return Array.from({ length: count }, (_, i) => {
    const rank = 1 + Math.floor(next() * 5);
    const shape = Array.from({ length: rank }, () =>
      next() < 0.15 ? 1 : 1 + Math.floor(next() * (rank > 3 ? 9 : 40)),
    );
    const perm = shape.map((_, j) => j).sort(() => next() - 0.5);
    return { shape, perm, dtype: DTYPES[i % 3] };
  });
}

// The first five take the tiled JavaScript path (row counts multiple of 256), the rest tfjs's kernel.
const FIXED = [
  { shape: [512, 512], perm: [1, 0], dtype: 'float32' as const },
  { shape: [256, 70], perm: [1, 0], dtype: 'int32' as const },
  { shape: [3, 512, 65], perm: [0, 2, 1], dtype: 'bool' as const },
  { shape: [1, 512, 1, 100], perm: [3, 1, 2, 0], dtype: 'float32' as const },
  { shape: [2, 2, 256, 80], perm: [0, 1, 3, 2], dtype: 'float32' as const },
  { shape: [64, 784], perm: [1, 0], dtype: 'float32' as const },
  { shape: [2, 8, 16, 32], perm: [0, 2, 1, 3], dtype: 'float32' as const }, // attention heads
  { shape: [3, 1, 5], perm: [1, 0, 2], dtype: 'float32' as const }, // moves nothing
  { shape: [0, 4], perm: [1, 0], dtype: 'float32' as const },
];

describe('Transpose (wasm, JavaScript) vs cpu', () => {
  beforeAll(setUpBackends);

  it('replaces the wasm kernel', () => {
    expect(tf.getKernel('Transpose', 'wasm')?.kernelFunc).toBe(transpose);
  });

  it.each([...FIXED, ...cases(45)].map((c) => [`${c.dtype} ${c.shape} by ${c.perm}`, c] as const))(
    '%s',
    async (_n, c) => {
      const { cpu, wasm } = await onBoth(
        'Transpose',
        { x: { shape: c.shape, dtype: c.dtype, seed: 7 } },
        { perm: c.perm },
      );
      expect(wasm.shape).toEqual(cpu.shape);
      expect(Array.from(wasm.data)).toEqual(Array.from(cpu.data));
      expect(wasm.leakedTensors).toBe(0);
      expect(wasm.leakedDataIds).toBe(0);
    },
  );

  it('takes the JavaScript path only where it measured faster', () => {
    expect(javascriptIsFaster([512, 512], [1, 0])).toBe(true);
    expect(javascriptIsFaster([4, 1024, 256], [0, 2, 1])).toBe(true);
    expect(javascriptIsFaster([784, 512], [1, 0])).toBe(false);
    expect(javascriptIsFaster([64, 784], [1, 0])).toBe(false);
    expect(javascriptIsFaster([2, 8, 128], [1, 0, 2])).toBe(false);
  });

  it('tf.transpose leaves no tensor behind and its gradient matches cpu', async () => {
    const { cpu, wasm } = await gradientOnBoth([2, 3, 4], (v) =>
      tf.sum(tf.mul(tf.transpose(v, [2, 0, 1]), tf.reshape(tf.range(0, 24), [4, 2, 3]))),
    );
    expect(wasm.data).toEqual(cpu.data);
    expect(wasm.leaked).toBe(0);
  });
});
