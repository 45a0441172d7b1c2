// DepthwiseConv2dNativeBackpropInput on wasm (composed) against the cpu backend's kernel.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients used by the end-to-end check
import { beforeAll, describe, expect, it } from 'vitest';
import { attrMap, dilateFilter, maxDiff, pair, runOn, setUpBackends, values } from '../../test-support/kernel-check.js';
import { depthwiseConv2dNativeBackpropInput } from './DepthwiseConv2dNativeBackpropInput.js';
import { caseLabel, DEPTHWISE_CASES } from '../../test-support/depthwise-cases.js';

describe('DepthwiseConv2dNativeBackpropInput (wasm, composed) vs cpu', () => {
  beforeAll(setUpBackends);

  it('is the composed kernel that runs on wasm', () => {
    expect(tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'wasm')?.kernelFunc).toBe(
      depthwiseConv2dNativeBackpropInput,
    );
  });

  it.each(DEPTHWISE_CASES.map((c) => [caseLabel(c), c] as const))('%s', async (_name, c) => {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, c.dilations, c.pad, undefined, true);
    const attrs = attrMap({ strides: c.strides, dilations: c.dilations, pad: c.pad, inputShape: c.x });
    const dy = { shape: info.outShape, seed: 5 };
    const filter = values(tf.util.sizeFromShape(c.filter), 9);
    const wasm = await runOn(
      'wasm',
      'DepthwiseConv2dNativeBackpropInput',
      { dy, filter: { shape: c.filter, data: Array.from(filter) } },
      attrs,
    );
    // cpu's kernel ignores dilations: give it the equivalent undilated filter.
    const [dh, dw] = pair(c.dilations);
    const wide = dilateFilter(filter, c.filter, dh, dw);
    const cpuAttrs = attrMap({ strides: c.strides, dilations: 1, pad: c.pad, inputShape: c.x });
    const cpu = await runOn(
      'cpu',
      'DepthwiseConv2dNativeBackpropInput',
      { dy, filter: { shape: wide.shape, data: Array.from(wide.data) } },
      cpuAttrs,
    );
    expect(wasm.shape).toEqual(c.x);
    expect(maxDiff(wasm.data, cpu.data)).toBeLessThan(1e-4);
    expect(wasm.leakedTensors).toBe(0);
    expect(wasm.leakedDataIds).toBe(0);
  });

  it('gives depthwiseConv2d input gradients equal to cpu through tf.grads', async () => {
    const grad = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(values(2 * 9 * 7 * 3, 21), [2, 9, 7, 3]);
        const w = tf.tensor4d(values(3 * 3 * 3 * 2, 22), [3, 3, 3, 2]);
        const g = tf.grad((xi) => tf.sum(tf.square(tf.depthwiseConv2d(xi as tf.Tensor4D, w, 2, 'same'))))(x);
        return g.dataSync();
      });
    };
    const before = tf.memory().numTensors;
    expect(maxDiff(await grad('wasm'), await grad('cpu'))).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  });
});
