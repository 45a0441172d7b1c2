// A small safetensors reader of its own (not the library's, which the tests check): header JSON, then
// little-endian data. F64 becomes float32, I64 int32 (values must fit), as tfjs has neither.
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function values(dtype: string, bytes: Uint8Array, key: string): { data: tf.TypedArray; dtype: tf.DataType } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = <T extends tf.TypedArray>(size: number, make: (n: number) => T, get: (o: number) => number): T => {
    const out = make(bytes.byteLength / size);
    for (let i = 0; i < out.length; i++) out[i] = get(i * size);
    return out;
  };
  switch (dtype) {
    case 'F32':
      return {
        data: read(
          4,
          (n) => new Float32Array(n),
          (o) => view.getFloat32(o, true),
        ),
        dtype: 'float32',
      };
    case 'F64':
      return {
        data: read(
          8,
          (n) => new Float32Array(n),
          (o) => view.getFloat64(o, true),
        ),
        dtype: 'float32',
      };
    case 'I32':
      return {
        data: read(
          4,
          (n) => new Int32Array(n),
          (o) => view.getInt32(o, true),
        ),
        dtype: 'int32',
      };
    case 'I64':
      return {
        data: read(
          8,
          (n) => new Int32Array(n),
          (o) => {
            const v = view.getBigInt64(o, true);
            if (v > 2147483647n || v < -2147483648n) throw new Error(`${key}: I64 value ${v} does not fit int32`);
            return Number(v);
          },
        ),
        dtype: 'int32',
      };
    case 'BOOL':
      return { data: Uint8Array.from(bytes), dtype: 'bool' };
    default:
      throw new Error(`${key}: dtype ${dtype} is not read by the test reader (F32, F64, I32, I64, BOOL)`);
  }
}

/** Reads a safetensors file into tensors (F32/F64 → float32, I32/I64 → int32, BOOL → bool). */
export function readSafetensorsFile(path: string): Record<string, tf.Tensor> {
  const file = readFileSync(path);
  const n = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + n).toString('utf8')) as Record<string, Entry>;
  const out: Record<string, tf.Tensor> = {};
  for (const [key, e] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const [start, end] = e.data_offsets;
    const { data, dtype } = values(e.dtype, file.subarray(8 + n + start, 8 + n + end), key);
    out[key] = tf.tensor(data, e.shape, dtype);
  }
  return out;
}
