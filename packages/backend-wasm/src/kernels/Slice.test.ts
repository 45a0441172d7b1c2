// The heap-copy Slice on wasm against the cpu backend: random shapes, ranks, dtypes and slices.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients
import { beforeAll, describe, expect, it } from 'vitest';
import { gradientOnBoth, onBoth, setUpBackends, values } from '../../test-support/kernel-check.js';
import { contiguousOffset, slice } from './Slice.js';

const DTYPES = ['float32', 'int32', 'bool'] as const;
type Case = { shape: number[]; begin: number[] | number; size: number[] | number; dtype: (typeof DTYPES)[number] };

/**
 * Deterministic random cases: rank 1–5, sizes 0–12 (some 0 and 1), a dtype; every other case is
 * made one contiguous block (an axis cut, the axes after it whole, size −1 sometimes), the rest cut
 * anywhere (mostly tfjs's kernel).
 */
function cases(count: number): Case[] {
  const r = values(count * 40, 31);
  let k = 0;
  const next = () => (r[k++] + 1) / 2;
  const int = (n: number) => Math.floor(next() * n);
  return Array.from({ length: count }, (_, i) => {
    const rank = 1 + int(5);
    const shape = Array.from({ length: rank }, () =>
      next() < 0.08 ? 0 : next() < 0.15 ? 1 : 1 + int(rank > 3 ? 6 : 12),
    );
    const begin = shape.map((d) => int(d));
    const size = shape.map((d, j) => (d > 0 ? 1 + int(d - begin[j]) : 0));
    if (i % 2 === 0) {
      const cut = int(rank);
      for (let j = 0; j < rank; j++) {
        if (j < cut) size[j] = Math.min(1, shape[j] - begin[j]);
        if (j > cut) [begin[j], size[j]] = [0, next() < 0.5 ? -1 : shape[j]];
      }
      if (next() < 0.3) size[cut] = -1;
    }
    return { shape, begin, size, dtype: DTYPES[i % 3] };
  });
}

const FIXED: Case[] = [
  { shape: [4096, 784], begin: [128, 0], size: [64, 784], dtype: 'float32' }, // a training batch
  { shape: [300, 784], begin: [256, 0], size: [-1, -1], dtype: 'float32' }, // the last, short batch
  { shape: [100, 10], begin: 40, size: 64 - 4, dtype: 'int32' }, // number forms
  { shape: [3, 5, 7], begin: [0, 0, 0], size: [3, 5, 7], dtype: 'bool' }, // the full tensor
  { shape: [3, 5, 7], begin: [2, 1, 0], size: [1, 3, 7], dtype: 'float32' }, // size-1 axis, then a row range
  { shape: [2, 3, 4, 5, 6], begin: [1, 2, 1, 0, 0], size: [1, 1, 2, -1, -1], dtype: 'int32' }, // rank 5, one block
  { shape: [2, 3, 4, 5, 6], begin: [0, 1, 1, 1, 2], size: [2, 2, 2, 3, 3], dtype: 'float32' }, // rank 5, not a block
  { shape: [6, 8], begin: [1, 2], size: [3, 4], dtype: 'float32' }, // columns: not a block
  { shape: [6, 8], begin: [1, 2], size: [1, 4], dtype: 'bool' }, // part of one row: a block
  { shape: [6, 8], begin: [6, 0], size: [0, 8], dtype: 'float32' }, // empty slice at the end
  { shape: [0, 8], begin: [0, 0], size: [0, -1], dtype: 'int32' }, // empty input
  { shape: [9], begin: [3], size: [-1], dtype: 'bool' }, // rank 1
  { shape: [1], begin: [0], size: [1], dtype: 'float32' },
];

describe('Slice (wasm, heap copy) vs cpu', () => {
  beforeAll(setUpBackends);

  it('replaces the wasm kernel', () => {
    expect(tf.getKernel('Slice', 'wasm')?.kernelFunc).toBe(slice);
  });

  it.each([...FIXED, ...cases(60)].map((c) => [`${c.dtype} ${c.shape} from ${c.begin} size ${c.size}`, c] as const))(
    '%s',
    async (_n, c) => {
      const { cpu, wasm } = await onBoth(
        'Slice',
        { x: { shape: c.shape, dtype: c.dtype, seed: 11 } },
        { begin: c.begin, size: c.size },
      );
      expect(wasm.shape).toEqual(cpu.shape);
      expect(Array.from(wasm.data)).toEqual(Array.from(cpu.data));
      expect(wasm.leakedTensors).toBe(0);
      expect(wasm.leakedDataIds).toBe(0);
    },
  );

  it('copies one block only where the slice is one', () => {
    expect(contiguousOffset([4096, 784], [128, 0], [64, 784])).toBe(128 * 784);
    expect(contiguousOffset([3, 5, 7], [2, 1, 0], [1, 3, 7])).toBe(2 * 35 + 7);
    expect(contiguousOffset([6, 8], [1, 2], [1, 4])).toBe(10);
    expect(contiguousOffset([6, 8], [1, 2], [3, 4])).toBe(-1);
    expect(contiguousOffset([6, 8], [0, 0], [3, 4])).toBe(-1);
  });

  it('is a copy, not a view: the output has its own buffer and outlives the input', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d(values(6 * 4, 5), [6, 4]);
    const expected = Array.from(x.dataSync().subarray(8, 16));
    const y = tf.slice(x, [2, 0], [2, 4]);
    expect(y.dataId).not.toBe(x.dataId);
    x.dispose();
    const zeros = tf.zeros([8, 8]);
    const z = tf.add(zeros, 1); // reuses freed heap memory
    expect(Array.from(y.dataSync())).toEqual(expected);
    tf.dispose([y, z, zeros]);
  });

  it("strings go to tfjs-backend-wasm's kernel", async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d(['a', 'b', 'c', 'd', 'e', 'f'], [3, 2]);
    const y = tf.slice(x, [1, 0], [2, -1]);
    expect(y.arraySync()).toEqual([
      ['c', 'd'],
      ['e', 'f'],
    ]);
    tf.dispose([x, y]);
  });

  it('leaves no tensor or buffer behind over many batches, and its gradient matches cpu', async () => {
    await tf.setBackend('wasm');
    const data = tf.tensor2d(values(256 * 16, 9), [256, 16]);
    const tensors = tf.memory().numTensors;
    const ids = tf.engine().backend.numDataIds();
    const bytes = tf.memory().numBytes;
    for (let i = 0; i < 40; i++) tf.tidy(() => tf.sum(tf.slice(data, (i * 64) % 256, 64)).dataSync());
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(ids);
    expect(tf.memory().numBytes).toBe(bytes);
    data.dispose();

    const { cpu, wasm } = await gradientOnBoth([4, 3, 5], (v) =>
      tf.sum(tf.mul(tf.slice(v, [1, 0, 0], [2, -1, -1]), tf.reshape(tf.range(0, 30), [2, 3, 5]))),
    );
    expect(wasm.data).toEqual(cpu.data);
    expect(wasm.leaked).toBe(0);
  });
});
