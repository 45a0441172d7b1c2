// The faster Conv2DBackpropInput on wasm against the cpu backend's kernel, on odd shapes, strides and
// paddings; NCHW still goes to tfjs-backend-wasm's own kernel.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients used by the end-to-end check
import { beforeAll, describe, expect, it } from 'vitest';
import { attrMap, maxDiff, onBoth, setUpBackends, values } from '../../test-support/kernel-check.js';
import { conv2DBackpropInput } from './Conv2DBackpropInput.js';

type Pad = tf.Conv2DBackpropInputAttrs['pad'];
const CASES: {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
}[] = [
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 5], strides: 1, pad: 'same' },
  { x: [2, 7, 9, 3], filter: [3, 2, 3, 5], strides: 1, pad: 'valid' },
  { x: [1, 9, 8, 4], filter: [3, 3, 4, 6], strides: 2, pad: 'same' },
  { x: [3, 10, 7, 2], filter: [2, 3, 2, 7], strides: [2, 3], pad: 'valid' },
  { x: [1, 11, 6, 3], filter: [4, 3, 3, 2], strides: [3, 1], pad: 'same' },
  {
    x: [2, 6, 7, 5],
    filter: [3, 3, 5, 4],
    strides: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  {
    x: [1, 8, 9, 2],
    filter: [3, 3, 2, 3],
    strides: 2,
    pad: [
      [0, 0],
      [2, 0],
      [1, 1],
      [0, 0],
    ],
  },
  { x: [2, 7, 9, 3], filter: [5, 5, 3, 2], strides: 2, pad: 1 },
  { x: [2, 5, 6, 40], filter: [1, 1, 40, 3], strides: 1, pad: 'valid' },
  { x: [2, 3, 7, 9], filter: [3, 3, 3, 4], strides: [1, 2], pad: 'same', dataFormat: 'NCHW' },
];

describe('Conv2DBackpropInput (wasm, via XNNPACK Conv2D) vs cpu', () => {
  beforeAll(setUpBackends);

  it('replaces the wasm kernel', () => {
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(conv2DBackpropInput);
  });

  it.each(
    CASES.map(
      (c) =>
        [
          `x ${c.x} filter ${c.filter} strides ${c.strides} pad ${JSON.stringify(c.pad)} ${c.dataFormat ?? ''}`,
          c,
        ] as const,
    ),
  )('%s', async (_n, c) => {
    const dataFormat = c.dataFormat ?? 'NHWC';
    const nhwc: [number, number, number, number] = dataFormat === 'NCHW' ? [c.x[0], c.x[2], c.x[3], c.x[1]] : c.x;
    const [n, oh, ow, o] = tf.backend_util.computeConv2DInfo(nhwc, c.filter, c.strides, 1, c.pad).outShape;
    const dyShape = dataFormat === 'NCHW' ? [n, o, oh, ow] : [n, oh, ow, o];
    const attrs = attrMap({ strides: c.strides, pad: c.pad, dataFormat, inputShape: c.x });
    const { cpu, wasm } = await onBoth(
      'Conv2DBackpropInput',
      { dy: { shape: dyShape, seed: 2 }, filter: { shape: c.filter, seed: 6 } },
      attrs,
    );
    expect(wasm.shape).toEqual(c.x);
    expect(maxDiff(wasm.data, cpu.data)).toBeLessThan(1e-4);
    expect(wasm.leakedTensors).toBe(0);
    expect(wasm.leakedDataIds).toBe(0);
  });

  it('gives conv2d input gradients equal to cpu through tf.grads', async () => {
    const grad = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const w = tf.tensor4d(values(3 * 3 * 3 * 4, 52), [3, 3, 3, 4]);
        return tf
          .grad((x) => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, w, 2, 'same'))))(
            tf.tensor4d(values(2 * 9 * 7 * 3, 51), [2, 9, 7, 3]),
          )
          .dataSync();
      });
    };
    expect(maxDiff(await grad('wasm'), await grad('cpu'))).toBeLessThan(1e-4);
  });
});
