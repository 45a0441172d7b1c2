import * as tf from '@tensorflow/tfjs-core';
import type { Info, KernelParams } from './kernel-scope.js';
import { originalKernel } from './originals.js';
import { wasmHeap } from './wasm-heap.js';

const HEAP_DTYPES = new Set<tf.DataType>(['float32', 'int32', 'bool']);

/** Bytes of a heap view (float32 / int32 / bool), so the copy is one byte-exact memmove. */
function bytesOf(a: Float32Array | Int32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * The flat element offset of a slice that is one contiguous block of x (tfjs's
 * `slice_util.isSliceContinous`: after the first axis of size above 1, every axis is taken whole),
 * or -1 when it is not one block.
 */
export function contiguousOffset(shape: readonly number[], begin: readonly number[], size: readonly number[]): number {
  if (shape.length === 0 || !tf.slice_util.isSliceContinous([...shape], [...begin], [...size])) return -1;
  const strides = tf.util.computeStrides([...shape]);
  let offset = begin[shape.length - 1];
  for (let i = 0; i < strides.length; i++) offset += begin[i] * strides[i];
  return offset;
}

/**
 * A faster `Slice` for wasm. tfjs-backend-wasm 4.22's kernel first reads the whole input out of the
 * heap (`readSync`, a fresh copy of x: 64 rows of [4096, 784] measured 1.3–41 ms, of [60000, 784]
 * 650–790 ms, against 0.01–0.03 ms here). A slice that is one contiguous block of x (leading-axis row
 * ranges; any slice whose axes after the first one cut are whole) is copied within the heap into a new
 * output in one `set` (bit-exact; float32, int32, bool). Never a view of x: tfjs keys XNNPACK's packed
 * weights by buffer id (see Transpose.ts). Strings and other slices go to tfjs-backend-wasm's kernel.
 * `begin`/`size` are checked by tfjs's op before the kernel; size −1 (to the end) is resolved here.
 */
export function slice(params: KernelParams): Info {
  const x = (params.inputs as { x: Info }).x;
  const { begin, size } = params.attrs as unknown as tf.SliceAttrs;
  if (!HEAP_DTYPES.has(x.dtype)) return originalKernel(tf.Slice)(params) as Info;
  const [b, s] = tf.slice_util.parseSliceParams(x, begin, size);
  const offset = contiguousOffset(x.shape, b, s);
  if (offset < 0) return originalKernel(tf.Slice)(params) as Info;
  const h = wasmHeap(params.backend as tf.KernelBackend);
  const out = h.makeOutput(s, x.dtype);
  const n = tf.util.sizeFromShape(s);
  if (n === 0) return out;
  // Views after the allocation: allocating may grow (and so move) the heap.
  const src = h.typedArrayFromHeap(x).subarray(offset, offset + n);
  bytesOf(h.typedArrayFromHeap(out)).set(bytesOf(src));
  return out;
}

/** Registration of {@link slice} for 'wasm' (replaces tfjs-backend-wasm's). */
export const sliceConfig: tf.KernelConfig = {
  kernelName: tf.Slice,
  backendName: 'wasm',
  kernelFunc: slice,
};
