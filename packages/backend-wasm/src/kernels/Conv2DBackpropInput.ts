import * as tf from '@tensorflow/tfjs-core';
import { composedWasmKernel, type Info, type KernelParams } from './kernel-scope.js';
import { originalKernel } from './originals.js';
import { fillOutput, spreadForTranspose } from './wasm-heap.js';

/**
 * A faster `Conv2DBackpropInput` for wasm (tfjs-backend-wasm's own is a plain loop, ~10x slower than
 * its XNNPACK forward convolution): the transposed convolution as a forward one. dy [N,OH,OW,O] gets
 * `stride − 1` zeros between rows/columns and `f − 1 − padBefore` zero rows/columns before (enough
 * after for H×W outputs), then wasm's `Conv2D` (valid, stride 1) with the filter flipped in space and
 * its in/out axes swapped: W'[i, j, o, c] = W[fh−1−i, fw−1−j, c, o]. NCHW goes to the original kernel.
 */
export function conv2DBackpropInput(params: KernelParams): Info {
  const attrs0 = (params.attrs ?? {}) as { dataFormat?: string };
  if (attrs0.dataFormat === 'NCHW') return originalKernel(tf.Conv2DBackpropInput)(params) as Info;
  return composedWasmKernel<tf.Conv2DBackpropInputAttrs>(params, ({ dy, filter }, attrs, s) => {
    const [fh, fw, c, o] = filter.shape;
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      [fh, fw, c, o],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const top = fh - 1 - info.padInfo.top;
    const left = fw - 1 - info.padInfo.left;
    const bottom = info.inHeight + fh - 1 - top - dy.shape[1] * info.strideHeight;
    const right = info.inWidth + fw - 1 - left - dy.shape[2] * info.strideWidth;
    const spread = spreadForTranspose(s, dy, info.strideHeight, info.strideWidth, top, bottom, left, right);
    const flipped = fillOutput(s, [fh, fw, o, c], [filter], (out, w) => {
      for (let i = 0; i < fh; i++)
        for (let j = 0; j < fw; j++)
          for (let q = 0; q < o; q++)
            for (let k = 0; k < c; k++)
              out[((i * fw + j) * o + q) * c + k] = w[(((fh - 1 - i) * fw + (fw - 1 - j)) * c + k) * o + q];
    });
    return s.run(
      'Conv2D',
      { x: spread, filter: flipped },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] },
    );
  });
}

/** Registration of {@link conv2DBackpropInput} for 'wasm' (replaces tfjs-backend-wasm's). */
export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput,
};
