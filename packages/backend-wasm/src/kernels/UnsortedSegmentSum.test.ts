// UnsortedSegmentSum on wasm (composed) against the cpu backend's kernel, and gather's gradient.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients used by the end-to-end check
import { beforeAll, describe, expect, it } from 'vitest';
import { maxDiff, onBoth, setUpBackends, values, type InputSpec } from '../../test-support/kernel-check.js';
import { unsortedSegmentSum } from './UnsortedSegmentSum.js';

interface Case {
  name: string;
  x: InputSpec;
  ids: number[];
  idsShape: number[];
  numSegments: number;
}

const CASES: Case[] = [
  {
    name: 'rank-1 ids with repeats',
    x: { shape: [7, 3, 2], seed: 2 },
    ids: [4, 0, 4, 2, 0, 0, 1],
    idsShape: [7],
    numSegments: 5,
  },
  { name: 'segments never hit', x: { shape: [5, 3], seed: 3 }, ids: [0, 0, 6, 6, 6], idsShape: [5], numSegments: 9 },
  {
    name: 'out-of-range and negative ids dropped',
    x: { shape: [6, 4], seed: 4 },
    ids: [1, -1, 3, 7, 1, 2],
    idsShape: [6],
    numSegments: 4,
  },
  {
    name: 'int32 values',
    x: { shape: [5, 2], dtype: 'int32', data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
    ids: [1, 0, 1, 5, 0],
    idsShape: [5],
    numSegments: 3,
  },
];

describe('UnsortedSegmentSum (wasm, composed) vs cpu', () => {
  beforeAll(setUpBackends);

  it('is the composed kernel that runs on wasm', () => {
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')?.kernelFunc).toBe(unsortedSegmentSum);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const inputs = { x: c.x, segmentIds: { shape: c.idsShape, dtype: 'int32' as const, data: c.ids } };
    const { cpu, wasm } = await onBoth('UnsortedSegmentSum', inputs, { numSegments: c.numSegments });
    expect(wasm.shape).toEqual(cpu.shape);
    expect(wasm.shape).toEqual([c.numSegments, ...c.x.shape.slice(c.idsShape.length)]);
    expect(maxDiff(wasm.data, cpu.data)).toBeLessThan(1e-4);
    expect(wasm.leakedTensors).toBe(0);
    expect(wasm.leakedDataIds).toBe(0);
  });

  it('takes ids of higher rank as TensorFlow does (the leading dimensions of x), against a closed form', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.tensor3d(values(2 * 3 * 4, 5), [2, 3, 4]);
    const ids = tf.tensor2d([2, 0, 2, 1, 1, 0], [2, 3], 'int32');
    const out = tf.engine().runKernel('UnsortedSegmentSum', { x, segmentIds: ids }, { numSegments: 3 }) as tf.Tensor;
    expect(out.shape).toEqual([3, 4]);
    const xs = x.dataSync();
    const expected = new Float32Array(12);
    [2, 0, 2, 1, 1, 0].forEach((id, i) => {
      for (let k = 0; k < 4; k++) expected[id * 4 + k] += xs[i * 4 + k];
    });
    expect(maxDiff(out.dataSync(), expected)).toBeLessThan(1e-5);
    tf.dispose([x, ids, out]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives gather (embedding lookup) gradients equal to cpu through tf.grads', async () => {
    const grad = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const table = tf.tensor2d(values(11 * 6, 41), [11, 6]);
        const ids = tf.tensor2d([3, 1, 3, 10, 0, 3, 7, 1], [2, 4], 'int32');
        const g = tf.grad((t) => tf.sum(tf.square(tf.gather(t, ids))))(table);
        return g.dataSync();
      });
    };
    const before = tf.memory().numTensors;
    expect(maxDiff(await grad('wasm'), await grad('cpu'))).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  });
});
