import * as tf from '@tensorflow/tfjs-core';
import { composedWasmKernel, type Info, type KernelParams } from './kernel-scope.js';
import { allTaps, gatherTaps } from './wasm-heap.js';

/**
 * `DepthwiseConv2dNativeBackpropFilter` for the wasm backend (which lacks it).
 *
 * For each filter tap t = (fh, fw), the input values that the tap multiplies form Xₜ [P, C]
 * (P = N·outH·outW; gathered in JavaScript from the wasm heap, zeros for padding); with dy as
 * [P, C, M], dW[fh, fw, c, m] = Σₚ Xₜ[p, c] · dy[p, c, m]: a broadcast `Multiply` and a reduction over
 * P done as a matMul by a row of ones (wasm's `Sum` only reduces innermost axes without a transpose).
 * One tap at a time keeps the temporary at P·C·M values. Strides, dilations and same/valid/explicit
 * padding as in the forward kernel.
 */
export function depthwiseConv2dNativeBackpropFilter(params: KernelParams): Info {
  return composedWasmKernel<tf.DepthwiseConv2dNativeBackpropFilterAttrs>(params, ({ x, dy }, attrs, s) => {
    const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
    const [n, h, w, c] = x.shape;
    const info = tf.backend_util.computeConv2DInfo(
      [n, h, w, c],
      filterShape,
      strides,
      dilations,
      pad,
      dimRoundingMode,
      true,
    );
    const m = filterShape[3];
    const p = info.batchSize * info.outHeight * info.outWidth;
    const dy3 = s.reshape(dy, [p, c, m]);
    const ones = s.run('Fill', {}, { shape: [1, p], value: 1, dtype: 'float32' });
    const perTap = allTaps(info).map((tap) => {
      const xt = gatherTaps(s, x, info, [tap]);
      const xt3 = s.reshape(xt, [p, c, 1]);
      const prod = s.run('Multiply', { a: xt3, b: dy3 });
      const prod2 = s.reshape(prod, [p, c * m]);
      const sum = s.matMul(ones, prod2);
      s.free(xt, xt3, prod, prod2); // P·C·M values per tap: free before the next tap
      return sum;
    });
    const stacked = perTap.length === 1 ? perTap[0] : s.run('Concat', perTap, { axis: 0 });
    return s.reshape(stacked, [...filterShape]);
  });
}

/** Registration of {@link depthwiseConv2dNativeBackpropFilter} for 'wasm'. */
export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter,
};
