// Direct access to the wasm backend's heap for the data-movement steps of the composed kernels
// (im2col, taps, zero-upsampling, 2-D transposes). In wasm 4.22 these are faster as JavaScript loops
// over heap views than as chains of Slice/StridedSlice/Concat/Transpose kernels (10 ms for one 4-D
// slice of 250k values; a blocked transpose in JavaScript is ~7x faster than the Transpose kernel).
import * as tf from '@tensorflow/tfjs-core';
import { LoraError } from '@tfjs-lora/core';
import type { Info, KernelScope } from './kernel-scope.js';

/** The two BackendWasm methods the composed kernels use (public in tfjs-backend-wasm 4.22). */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(t: Info): Float32Array | Int32Array | Uint8Array;
}

/** The wasm backend's heap access (checked: throws a LoraError on a backend without it). */
export function wasmHeap(backend: tf.KernelBackend): HeapBackend {
  const b = backend as unknown as Partial<HeapBackend>;
  if (typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function') {
    throw new LoraError(
      `The composed wasm kernels expect @tensorflow/tfjs-backend-wasm 4.22's BackendWasm (makeOutput, typedArrayFromHeap); ` +
        `found a backend without them. Use tfjs-backend-wasm 4.22.`,
    );
  }
  return b as HeapBackend;
}

/**
 * A new float32 tensor of `shape` in the wasm heap, filled by `fill(out, view)` where `view` reads
 * an input. Views are taken after the allocation (allocating may grow, and so move, the heap).
 */
export function fillOutput(
  s: KernelScope,
  shape: number[],
  inputs: Info[],
  fill: (out: Float32Array, ...ins: Float32Array[]) => void,
): Info {
  const h = wasmHeap(s.backend);
  const out = s.adopt(h.makeOutput(shape, 'float32'));
  const views = inputs.map((t) => h.typedArrayFromHeap(t) as Float32Array);
  fill(h.typedArrayFromHeap(out) as Float32Array, ...views);
  return out;
}

/** Swaps the last two axes of x [..., R, C] (the Transpose kernel: tiled JavaScript or tfjs's, whichever is faster). */
export function transposeLast2(s: KernelScope, x: Info): Info {
  const r = x.shape.length;
  return s.transpose(x, [...x.shape.slice(0, -2).map((_, i) => i), r - 1, r - 2]);
}

/** The geometry of a 2-D convolution, as `backend_util.computeConv2DInfo` returns it. */
export type Conv2DInfo = tf.backend_util.Conv2DInfo;

/**
 * Gathers filter taps of x [N, H, W, C] (NHWC): for each output position p and each listed tap
 * (fh, fw), the C input values that the tap multiplies (0 in the padding). Result [P, taps·C], tap-
 * major within a row: with all taps in row-major order this is the im2col matrix [P, fh·fw·C].
 */
export function gatherTaps(s: KernelScope, x: Info, info: Conv2DInfo, taps: [number, number][]): Info {
  const [n, h, w, c] = x.shape;
  const {
    outHeight: oh,
    outWidth: ow,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight: dh,
    dilationWidth: dw,
  } = info;
  const { top, left } = info.padInfo;
  const k = taps.length * c;
  return fillOutput(s, [n * oh * ow, k], [x], (out, xs) => {
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          for (const [fh, fw] of taps) {
            const y = i * sh + fh * dh - top;
            const z = j * sw + fw * dw - left;
            if (y < 0 || y >= h || z < 0 || z >= w) {
              out.fill(0, o, o + c);
            } else {
              const src = ((b * h + y) * w + z) * c;
              if (c >= 16) out.set(xs.subarray(src, src + c), o);
              else for (let q = 0; q < c; q++) out[o + q] = xs[src + q];
            }
            o += c;
          }
        }
      }
    }
  });
}

/** Every tap of a filter, row-major. */
export function allTaps(info: Conv2DInfo): [number, number][] {
  const taps: [number, number][] = [];
  for (let fh = 0; fh < info.filterHeight; fh++) for (let fw = 0; fw < info.filterWidth; fw++) taps.push([fh, fw]);
  return taps;
}

/**
 * dy [N, OH, OW, C] spread for a transposed convolution: `stride − 1` zeros between rows and between
 * columns, then `top`/`bottom`/`left`/`right` zero rows/columns added (negative amounts crop).
 * Result [N, top + OH·sh + bottom, left + OW·sw + right, C].
 */
export function spreadForTranspose(
  s: KernelScope,
  dy: Info,
  sh: number,
  sw: number,
  top: number,
  bottom: number,
  left: number,
  right: number,
): Info {
  const [n, oh, ow, c] = dy.shape;
  const rows = top + oh * sh + bottom;
  const cols = left + ow * sw + right;
  return fillOutput(s, [n, rows, cols, c], [dy], (out, ys) => {
    out.fill(0);
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < oh; i++) {
        const y = top + i * sh;
        if (y < 0 || y >= rows) continue;
        for (let j = 0; j < ow; j++) {
          const z = left + j * sw;
          if (z < 0 || z >= cols) continue;
          const src = ((b * oh + i) * ow + j) * c;
          out.set(ys.subarray(src, src + c), ((b * rows + y) * cols + z) * c);
        }
      }
    }
  });
}
