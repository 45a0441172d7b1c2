import * as tf from '@tensorflow/tfjs-core';
import type { Info, KernelParams } from './kernel-scope.js';
import { originalKernel } from './originals.js';
import { collapsePermutation, isIdentityPermutation, permuteInto, type HeapArray } from './permute.js';
import { wasmHeap } from './wasm-heap.js';

const HEAP_DTYPES = new Set<tf.DataType>(['float32', 'int32', 'bool']);

/**
 * Whether the tiled JavaScript copy beats tfjs-backend-wasm's kernel for a collapsed permutation.
 * Measured (4.22, one thread, ms, stock/ours): the C++ kernel is fast except on a (batched) 2-D swap
 * whose row count R (the output's row stride) is a multiple of 256: 512×512 2.4/1.0, 1024×1024
 * 18/5.0, 256×512 0.78/0.63, 256×256 0.35/0.30, but 784×512 0.24/1.7, 384×384 0.33/0.66, 64×784
 * 0.06/0.20, 4-D permutations 2–10x faster in C++ (cache-set conflicts at power-of-two strides, which
 * the tiles avoid).
 */
export function javascriptIsFaster(shape: readonly number[], perm: readonly number[]): boolean {
  const r = perm.length;
  const swap2 = r === 2 || (r === 3 && perm[0] === 0);
  if (!swap2 || perm[r - 1] !== r - 2) return false;
  const rows = shape[r - 2];
  return rows >= 256 && rows % 256 === 0 && shape[r - 1] >= 64;
}

/**
 * 4-byte values (float32, int32) as Int32Array: copies are bit-exact (NaN payloads kept) and the copy
 * loop sees one array type (monomorphic); bool stays Uint8Array.
 */
function bitView(a: Float32Array | Int32Array | Uint8Array): HeapArray {
  return a instanceof Uint8Array ? a : new Int32Array(a.buffer, a.byteOffset, a.length);
}

/**
 * A faster `Transpose` for wasm. Size-1 axes are dropped and neighbouring axes merged first; a
 * (batched) 2-D swap with a power-of-two-like row count (512×512:
 * ~2.4 ms in tfjs's kernel) is a tiled JavaScript copy over the wasm heap (~1 ms, bit-exact, float32 /
 * int32 / bool); everything else goes to tfjs-backend-wasm's kernel, which is faster there (see
 * {@link javascriptIsFaster}).
 */
export function transpose(params: KernelParams): Info {
  const x = (params.inputs as { x: Info }).x;
  const perm = (params.attrs as unknown as tf.TransposeAttrs).perm;
  if (!HEAP_DTYPES.has(x.dtype)) return originalKernel(tf.Transpose)(params) as Info;
  const outShape = perm.map((a) => x.shape[a]);
  const { shape, perm: p } = collapsePermutation(x.shape, perm);
  // A permutation that moves nothing is copied (by the original), not returned as a view: tfjs-backend-
  // wasm keys XNNPACK's packed weights by buffer id, so one buffer seen as weights under two shapes
  // ([1, n] and its transpose [n, 1]) aborts its BatchMatMul.
  if (isIdentityPermutation(p) || !javascriptIsFaster(shape, p)) return originalKernel(tf.Transpose)(params) as Info;
  const h = wasmHeap(params.backend as tf.KernelBackend);
  const out = h.makeOutput(outShape, x.dtype);
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  // Views after the allocation: allocating may grow (and so move) the heap.
  permuteInto(bitView(h.typedArrayFromHeap(x)), bitView(h.typedArrayFromHeap(out)), shape, p);
  return out;
}

/** Registration of {@link transpose} for 'wasm' (replaces tfjs-backend-wasm's). */
export const transposeConfig: tf.KernelConfig = {
  kernelName: tf.Transpose,
  backendName: 'wasm',
  kernelFunc: transpose,
};
