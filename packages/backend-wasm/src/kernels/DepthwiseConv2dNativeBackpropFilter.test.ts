// DepthwiseConv2dNativeBackpropFilter on wasm (composed) against the cpu backend's kernel.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients used by the end-to-end check
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attrMap,
  maxDiff,
  pair,
  runOn,
  setUpBackends,
  undilateFilter,
  values,
} from '../../test-support/kernel-check.js';
import { caseLabel, DEPTHWISE_CASES } from '../../test-support/depthwise-cases.js';
import { depthwiseConv2dNativeBackpropFilter } from './DepthwiseConv2dNativeBackpropFilter.js';

describe('DepthwiseConv2dNativeBackpropFilter (wasm, composed) vs cpu', () => {
  beforeAll(setUpBackends);

  it('is the composed kernel that runs on wasm', () => {
    expect(tf.getKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm')?.kernelFunc).toBe(
      depthwiseConv2dNativeBackpropFilter,
    );
  });

  it.each(DEPTHWISE_CASES.map((c) => [caseLabel(c), c] as const))('%s', async (_name, c) => {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, c.dilations, c.pad, undefined, true);
    const attrs = attrMap({ strides: c.strides, dilations: c.dilations, pad: c.pad, filterShape: c.filter });
    const inputs = { x: { shape: c.x, seed: 4 }, dy: { shape: info.outShape, seed: 8 } };
    const wasm = await runOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', inputs, attrs);
    // cpu's kernel ignores dilations: take the gradient of the equivalent undilated filter, at the real taps.
    const [dh, dw] = pair(c.dilations);
    const wideShape = [(c.filter[0] - 1) * dh + 1, (c.filter[1] - 1) * dw + 1, c.filter[2], c.filter[3]];
    const cpuAttrs = attrMap({ strides: c.strides, dilations: 1, pad: c.pad, filterShape: wideShape });
    const cpu = await runOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', inputs, cpuAttrs);
    expect(wasm.shape).toEqual(c.filter);
    expect(maxDiff(wasm.data, undilateFilter(cpu.data, c.filter, dh, dw))).toBeLessThan(1e-4);
    expect(wasm.leakedTensors).toBe(0);
    expect(wasm.leakedDataIds).toBe(0);
  });

  it('gives depthwiseConv2d filter gradients equal to cpu through tf.grads', async () => {
    const grad = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(values(2 * 9 * 7 * 3, 31), [2, 9, 7, 3]);
        const w = tf.tensor4d(values(3 * 3 * 3 * 2, 32), [3, 3, 3, 2]);
        const g = tf.grad((f) => tf.sum(tf.square(tf.depthwiseConv2d(x, f as tf.Tensor4D, 1, 'valid'))))(w);
        return g.dataSync();
      });
    };
    const before = tf.memory().numTensors;
    expect(maxDiff(await grad('wasm'), await grad('cpu'))).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  });
});
