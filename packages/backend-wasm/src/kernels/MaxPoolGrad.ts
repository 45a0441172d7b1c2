import * as tf from '@tensorflow/tfjs-core';
import { composedWasmKernel, type Info, type KernelParams } from './kernel-scope.js';
import { fillOutput } from './wasm-heap.js';

/**
 * A faster `MaxPoolGrad` for wasm (tfjs-backend-wasm's own takes ~30 ms for a 64×26×26×32 input): one
 * JavaScript pass over the wasm heap. Each output's gradient goes to the first maximum of its window in
 * row-major order (strictly greater wins), as the cpu backend does; windows that see only padding
 * pass nothing.
 */
export function maxPoolGrad(params: KernelParams): Info {
  return composedWasmKernel<tf.MaxPoolGradAttrs>(params, ({ dy, input }, attrs, s) => {
    const [n, h, w, c] = input.shape;
    const info = tf.backend_util.computePool2DInfo(
      [n, h, w, c],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
    const { top, left } = info.padInfo;
    return fillOutput(s, [n, h, w, c], [input, dy], (out, xs, dys) => {
      out.fill(0);
      const best = new Float32Array(c);
      const where = new Int32Array(c);
      for (let b = 0; b < n; b++) {
        for (let i = 0; i < oh; i++) {
          for (let j = 0; j < ow; j++) {
            best.fill(Number.NEGATIVE_INFINITY);
            where.fill(-1);
            for (let p = 0; p < fh; p++) {
              const y = i * sh + p - top;
              if (y < 0 || y >= h) continue;
              for (let q = 0; q < fw; q++) {
                const z = j * sw + q - left;
                if (z < 0 || z >= w) continue;
                const base = ((b * h + y) * w + z) * c;
                for (let k = 0; k < c; k++) {
                  const v = xs[base + k];
                  if (v > best[k]) {
                    best[k] = v;
                    where[k] = base + k;
                  }
                }
              }
            }
            const g = ((b * oh + i) * ow + j) * c;
            for (let k = 0; k < c; k++) if (where[k] >= 0) out[where[k]] += dys[g + k];
          }
        }
      }
    });
  });
}

/** Registration of {@link maxPoolGrad} for 'wasm' (replaces tfjs-backend-wasm's). */
export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad,
};
