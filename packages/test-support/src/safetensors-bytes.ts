// A small safetensors reader of its own (not the library's, which the tests check), for Node and browser
// pages: header length (u64 LE), header JSON, then little-endian data. F64 becomes float32 and I64 int32
// (values must fit), as tfjs has neither.
import * as tf from '@tensorflow/tfjs-core';

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function decode(dtype: string, view: DataView, key: string): { data: tf.TypedArray; dtype: tf.DataType } {
  const read = <T extends tf.TypedArray>(size: number, out: T, get: (o: number) => number): T => {
    for (let i = 0; i < out.length; i++) out[i] = get(i * size);
    return out;
  };
  const n = (size: number) => view.byteLength / size;
  switch (dtype) {
    case 'F32':
      return { data: read(4, new Float32Array(n(4)), (o) => view.getFloat32(o, true)), dtype: 'float32' };
    case 'F64':
      return { data: read(8, new Float32Array(n(8)), (o) => view.getFloat64(o, true)), dtype: 'float32' };
    case 'I32':
      return { data: read(4, new Int32Array(n(4)), (o) => view.getInt32(o, true)), dtype: 'int32' };
    case 'I64': {
      const get = (o: number) => {
        const v = view.getBigInt64(o, true);
        if (v > 2147483647n || v < -2147483648n) throw new Error(`${key}: I64 value ${v} does not fit int32`);
        return Number(v);
      };
      return { data: read(8, new Int32Array(n(8)), get), dtype: 'int32' };
    }
    case 'BOOL':
      return { data: read(1, new Uint8Array(n(1)), (o) => view.getUint8(o)), dtype: 'bool' };
    default:
      throw new Error(`${key}: dtype ${dtype} is not read by the test reader (F32, F64, I32, I64, BOOL)`);
  }
}

/** Reads safetensors bytes into tensors (F32/F64 → float32, I32/I64 → int32, BOOL → bool). */
export function readSafetensorsBytes(bytes: Uint8Array): Record<string, tf.Tensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, Entry>;
  const out: Record<string, tf.Tensor> = {};
  for (const [key, e] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const [start, end] = e.data_offsets;
    const { data, dtype } = decode(
      e.dtype,
      new DataView(bytes.buffer, bytes.byteOffset + 8 + n + start, end - start),
      key,
    );
    out[key] = tf.tensor(data, e.shape, dtype);
  }
  return out;
}
