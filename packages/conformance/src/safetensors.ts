// A minimal safetensors reader over bytes (works in Node and in a browser page) for the trusted PEFT
// reference cases: F32 → float32, I64 → int32 (ids), nothing else.
import * as tf from '@tensorflow/tfjs-core';
import { AdapterFormatError } from '@tfjs-lora/core';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads a safetensors file's tensors. Throws an AdapterFormatError on a dtype other than F32/I64. */
export function readSafetensors(bytes: Uint8Array, file = 'safetensors file'): Record<string, tf.Tensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, HeaderEntry>;
  const base = 8 + headerLength;
  const out: Record<string, tf.Tensor> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [start, end] = info.data_offsets;
    const copy = bytes.slice(base + start, base + end); // aligned copy
    if (info.dtype === 'F32') out[name] = tf.tensor(new Float32Array(copy.buffer), info.shape, 'float32');
    else if (info.dtype === 'I64') out[name] = tf.tensor(Int32Array.from(new BigInt64Array(copy.buffer), (v) => Number(v)), info.shape, 'int32');
    else {
      Object.values(out).forEach((t) => t.dispose());
      throw new AdapterFormatError(`${file}: tensor '${name}' has dtype ${info.dtype}; the conformance fixtures reader handles F32 and I64 only.`, { tensor: name });
    }
  }
  return out;
}
