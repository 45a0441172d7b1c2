import * as tf from '@tensorflow/tfjs-core';
import { composedWasmKernel, type KernelParams, type Info } from './kernel-scope.js';
import { allTaps, gatherTaps, transposeLast2 } from './wasm-heap.js';

/**
 * `Conv2DBackpropFilter` for the wasm backend (which lacks it): dW = im2col(x)ᵀ · dy.
 *
 * x [N,H,W,C] becomes the im2col matrix X [P, K] (P = N·outH·outW, K = fh·fw·C, gathered in
 * JavaScript from the wasm heap, zeros for padding); dy [N,outH,outW,O] is Y [P, O]; dW [fh,fw,C,O] is
 * Xᵀ·Y. The transposed operand is transposed first (wasm's transposed matMul is a slow scalar loop), and
 * the smaller one is chosen: dWᵀ = Yᵀ·X when O < K. NCHW inputs are transposed to NHWC. Dilation is
 * not an attribute of this kernel in tfjs (its conv2d gradient requires 1).
 */
export function conv2DBackpropFilter(params: KernelParams): Info {
  return composedWasmKernel<tf.Conv2DBackpropFilterAttrs>(params, ({ x, dy }, attrs, s) => {
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
    const nchw = dataFormat === 'NCHW';
    const xh = nchw ? s.transpose(x, [0, 2, 3, 1]) : x;
    const dyh = nchw ? s.transpose(dy, [0, 2, 3, 1]) : dy;
    const [n, h, w, c] = xh.shape;
    const info = tf.backend_util.computeConv2DInfo([n, h, w, c], filterShape, strides, 1, pad, dimRoundingMode);
    const p = info.batchSize * info.outHeight * info.outWidth;
    const k = info.filterHeight * info.filterWidth * info.inChannels;
    const o = info.outChannels;
    const pointwise =
      k === c && info.strideHeight === 1 && info.strideWidth === 1 && info.padInfo.top === 0 && info.padInfo.left === 0;
    const cols = pointwise ? s.reshape(xh, [p, k]) : gatherTaps(s, xh, info, allTaps(info));
    const dy2 = s.reshape(dyh, [p, o]);
    const dw =
      o < k ? transposeLast2(s, s.matMul(transposeLast2(s, dy2), cols)) : s.matMul(transposeLast2(s, cols), dy2);
    return s.reshape(dw, [...filterShape]);
  });
}

/** Registration of {@link conv2DBackpropFilter} for 'wasm'. */
export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter,
};
