// The faster MaxPoolGrad on wasm against the cpu backend's kernel, including ties (ReLU zeros).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxDiff, runOn, setUpBackends, values } from '../../test-support/kernel-check.js';
import { maxPoolGrad } from './MaxPoolGrad.js';

const CASES: {
  x: [number, number, number, number];
  filterSize: [number, number];
  strides: [number, number];
  pad: 'same' | 'valid' | number;
  ties?: boolean;
}[] = [
  { x: [2, 8, 8, 3], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
  { x: [2, 9, 7, 5], filterSize: [2, 2], strides: [2, 2], pad: 'valid', ties: true },
  { x: [1, 9, 8, 4], filterSize: [3, 3], strides: [2, 2], pad: 'same' },
  { x: [2, 7, 9, 2], filterSize: [3, 2], strides: [1, 2], pad: 'valid', ties: true },
  { x: [1, 6, 7, 3], filterSize: [3, 3], strides: [2, 2], pad: 1 },
];

describe('MaxPoolGrad (wasm, JavaScript) vs cpu', () => {
  beforeAll(setUpBackends);

  it('replaces the wasm kernel', () => {
    expect(tf.getKernel('MaxPoolGrad', 'wasm')?.kernelFunc).toBe(maxPoolGrad);
  });

  it.each(
    CASES.map(
      (c) =>
        [`x ${c.x} window ${c.filterSize} strides ${c.strides} pad ${c.pad}${c.ties ? ' with ties' : ''}`, c] as const,
    ),
  )('%s', async (_n, c) => {
    // ties: half the inputs are exactly 0, as after a ReLU
    const xs = Array.from(values(tf.util.sizeFromShape(c.x), 8), (v) => (c.ties ? Math.max(v, 0) : v));
    const results = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      const x = tf.tensor4d(xs, c.x);
      const y = tf.maxPool(x, c.filterSize, c.strides, c.pad);
      const yv = Array.from(y.dataSync());
      y.dispose();
      const run = await runOn(
        backend,
        'MaxPoolGrad',
        {
          dy: { shape: tf.backend_util.computePool2DInfo(c.x, c.filterSize, c.strides, 1, c.pad).outShape, seed: 3 },
          input: { shape: c.x, data: xs },
          output: {
            shape: tf.backend_util.computePool2DInfo(c.x, c.filterSize, c.strides, 1, c.pad).outShape,
            data: yv,
          },
        },
        { filterSize: c.filterSize, strides: c.strides, pad: c.pad },
      );
      x.dispose();
      results.push(run);
    }
    const [cpu, wasm] = results;
    expect(wasm.shape).toEqual(c.x);
    expect(maxDiff(wasm.data, cpu.data)).toBeLessThan(1e-5);
    expect(wasm.leakedTensors).toBe(0);
    expect(wasm.leakedDataIds).toBe(0);
  });
});
