import * as tf from '@tensorflow/tfjs-core';
import { composedWasmKernel, type Info, type KernelParams } from './kernel-scope.js';
import { spreadForTranspose } from './wasm-heap.js';

/**
 * `DepthwiseConv2dNativeBackpropInput` for the wasm backend (which lacks it), as the transposed
 * convolution: dy [N, outH, outW, C·M] gets `stride − 1` zeros between rows and columns and
 * `(f−1)·dilation − padBefore` zero rows before (cropped where negative) and enough after for `in`
 * output rows (likewise columns; one JavaScript pass over the wasm heap), and is correlated (valid,
 * stride 1, same dilation) with the spatially flipped filter by wasm's depthwise convolution with
 * multiplier 1 over C·M channels; the M results of each input channel are summed:
 * dx[n,h,w,c] = Σ_{fh,fw,m} filter[fh,fw,c,m] · dy[n, (h+top−fh·dh)/sh, (w+left−fw·dw)/sw, c·M+m]
 * over the terms whose indices are whole and in range.
 */
export function depthwiseConv2dNativeBackpropInput(params: KernelParams): Info {
  return composedWasmKernel<tf.DepthwiseConv2dNativeBackpropInputAttrs>(params, ({ dy, filter }, attrs, s) => {
    const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
    const [fh, fw, c, m] = filter.shape;
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      [fh, fw, c, m],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      true,
    );
    const spanH = (fh - 1) * info.dilationHeight;
    const spanW = (fw - 1) * info.dilationWidth;
    const top = spanH - info.padInfo.top;
    const left = spanW - info.padInfo.left;
    const bottom = info.inHeight + spanH - top - dy.shape[1] * info.strideHeight;
    const right = info.inWidth + spanW - left - dy.shape[2] * info.strideWidth;
    const spread = spreadForTranspose(s, dy, info.strideHeight, info.strideWidth, top, bottom, left, right);
    const flipped = s.reshape(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [fh, fw, c * m, 1]);
    const dxm = s.run(
      'DepthwiseConv2dNative',
      { x: spread, filter: flipped },
      {
        strides: [1, 1],
        pad: 'valid',
        dilations: [info.dilationHeight, info.dilationWidth],
        dataFormat: 'NHWC',
      },
    );
    if (m === 1) return dxm;
    const [n, h, w] = dxm.shape;
    return s.run('Sum', { x: s.reshape(dxm, [n, h, w, c, m]) }, { axis: [4], keepDims: false });
  });
}

/** Registration of {@link depthwiseConv2dNativeBackpropInput} for 'wasm'. */
export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};
