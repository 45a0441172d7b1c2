// Conv2DBackpropFilter on wasm (composed) against the cpu backend's kernel, on odd shapes.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients used by the end-to-end check
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2DBackpropFilter } from './Conv2DBackpropFilter.js';
import { attrMap, maxDiff, onBoth, setUpBackends, values } from '../../test-support/kernel-check.js';

type Pad = tf.Conv2DBackpropFilterAttrs['pad'];
interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const CASES: Case[] = [
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
  { x: [2, 7, 9, 3], filter: [5, 5, 3, 2], strides: 2, pad: 1, dimRoundingMode: 'floor' },
  { x: [2, 5, 5, 40], filter: [1, 1, 40, 3], strides: 1, pad: 'valid' },
  { x: [2, 5, 6, 3], filter: [1, 1, 3, 40], strides: 1, pad: 'same' },
  { x: [2, 3, 7, 9], filter: [3, 3, 3, 4], strides: [1, 2], pad: 'same', dataFormat: 'NCHW' },
];

function label(c: Case): string {
  return `x ${c.x} filter ${c.filter} strides ${c.strides} pad ${JSON.stringify(c.pad)}${c.dataFormat === 'NCHW' ? ' NCHW' : ''}`;
}

describe('Conv2DBackpropFilter (wasm, composed) vs cpu', () => {
  beforeAll(setUpBackends);

  it('is the composed kernel that runs on wasm', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc).toBe(conv2DBackpropFilter);
  });

  it.each(CASES.map((c) => [label(c), c] as const))('%s', async (_name, c) => {
    const dataFormat = c.dataFormat ?? 'NHWC';
    const nhwc: [number, number, number, number] = dataFormat === 'NCHW' ? [c.x[0], c.x[2], c.x[3], c.x[1]] : c.x;
    const info = tf.backend_util.computeConv2DInfo(nhwc, c.filter, c.strides, 1, c.pad, c.dimRoundingMode);
    const [n, oh, ow, o] = info.outShape;
    const dyShape = dataFormat === 'NCHW' ? [n, o, oh, ow] : [n, oh, ow, o];
    const attrs = attrMap({
      strides: c.strides,
      pad: c.pad,
      dataFormat,
      dimRoundingMode: c.dimRoundingMode,
      filterShape: c.filter,
    });
    const { cpu, wasm } = await onBoth(
      'Conv2DBackpropFilter',
      { x: { shape: c.x, seed: 3 }, dy: { shape: dyShape, seed: 7 } },
      attrs,
    );
    expect(wasm.shape).toEqual(c.filter);
    expect(maxDiff(wasm.data, cpu.data)).toBeLessThan(1e-4);
    expect(wasm.leakedTensors).toBe(0);
    expect(wasm.leakedDataIds).toBe(0);
  });

  it('gives conv2d filter gradients equal to cpu through tf.grads', async () => {
    const grad = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(values(2 * 9 * 7 * 3, 11), [2, 9, 7, 3]);
        const w = tf.tensor4d(values(3 * 3 * 3 * 4, 12), [3, 3, 3, 4]);
        const g = tf.grad((f) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, 2, 'same'))))(w);
        return g.dataSync();
      });
    };
    const before = tf.memory().numTensors;
    expect(maxDiff(await grad('wasm'), await grad('cpu'))).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  });
});
