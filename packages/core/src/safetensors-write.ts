// Writer for the safetensors format, byte-for-byte as Python's `safetensors` lays a file out: tensors
// sorted by dtype (larger first) then name, compact JSON header (`__metadata__` first), padded with
// spaces to a multiple of 8 bytes.
import type * as tf from '@tensorflow/tfjs-core';
import { AdapterFormatError } from './errors/index.js';
import { f32ToBf16, f32ToF16 } from './half.js';
import { SAFETENSORS_DTYPES, setOwn, type SafetensorsDtype, type SafetensorsEntry } from './safetensors.js';
import { requireSyncRead } from './sync-read.js';

/** Raw element data for one dtype (F16/BF16 as bit patterns, I64 as BigInt64Array or int32 values). */
export type SafetensorsData = Float32Array | Int32Array | Uint8Array | Uint16Array | BigInt64Array;

/** One tensor to encode: dtype, shape and its elements in row-major order. */
export interface SafetensorsTensorInput {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  data: SafetensorsData;
}

/** Options of {@link writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** dtype for float32 tensors (default F32); F16/BF16 round to nearest even as PyTorch does. */
  floatDtype?: 'F32' | 'F16' | 'BF16';
  /** dtype for int32 tensors (default I32); I64 is what PyTorch uses for ids. */
  intDtype?: 'I32' | 'I64';
}

const EXPECTED_ARRAY: Record<SafetensorsDtype, string> = {
  F32: 'Float32Array',
  F16: 'Uint16Array (half bit patterns)',
  BF16: 'Uint16Array (bfloat16 bit patterns)',
  I32: 'Int32Array',
  I64: 'BigInt64Array or Int32Array',
  U8: 'Uint8Array',
  BOOL: 'Uint8Array of 0/1',
};
const LONE_SURROGATE = /\p{Cs}/u;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(message: string, tensor?: string): never {
  throw new AdapterFormatError(message, { tensor });
}

function checkText(what: string, s: unknown, tensor?: string): string {
  if (typeof s !== 'string' || LONE_SURROGATE.test(s)) {
    fail(
      `${what} must be a string of valid Unicode (no lone surrogates); found ${JSON.stringify(s) ?? String(s)}. Fix the name or value.`,
      tensor,
    );
  }
  return s as string;
}

function arrayFits(dtype: SafetensorsDtype, data: SafetensorsData): boolean {
  switch (dtype) {
    case 'F32':
      return data instanceof Float32Array;
    case 'F16':
    case 'BF16':
      return data instanceof Uint16Array;
    case 'I32':
      return data instanceof Int32Array;
    case 'I64':
      return data instanceof BigInt64Array || data instanceof Int32Array;
    case 'U8':
    case 'BOOL':
      return data instanceof Uint8Array;
  }
}

/** Little-endian bytes of one tensor's data. */
function dataBytes(dtype: SafetensorsDtype, data: SafetensorsData): Uint8Array {
  const wide = dtype === 'I64' && data instanceof Int32Array ? BigInt64Array.from(data, (v) => BigInt(v)) : data;
  const raw = new Uint8Array(wide.buffer, wide.byteOffset, wide.byteLength);
  if (LITTLE_ENDIAN || wide.BYTES_PER_ELEMENT === 1) return raw;
  const swapped = raw.slice();
  for (let i = 0; i < swapped.length; i += wide.BYTES_PER_ELEMENT)
    swapped.subarray(i, i + wide.BYTES_PER_ELEMENT).reverse();
  return swapped;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Encodes tensors (raw data per dtype) and optional string metadata as a safetensors file. The layout
 * equals Python's `safetensors.serialize` for the same tensors (and for metadata with at most one key;
 * Python orders several keys arbitrarily). Throws AdapterFormatError for a data array that does not fit
 * its dtype or shape, a BOOL value other than 0/1, or a name that cannot be written.
 */
export function encodeSafetensors(
  tensors: Readonly<Record<string, SafetensorsTensorInput>>,
  metadata?: Readonly<Record<string, string>> | null,
): Uint8Array {
  const encoder = new TextEncoder();
  const items = Object.keys(tensors).map((name) => {
    checkText('A safetensors tensor name', name, name);
    if (name === '__metadata__')
      fail(`A tensor cannot be named "__metadata__" (the format reserves it). Rename the tensor.`, name);
    const t = tensors[name]!;
    const dtype = t?.dtype;
    if (!Object.hasOwn(SAFETENSORS_DTYPES, dtype)) {
      fail(
        `Tensor ${JSON.stringify(name)}: dtype must be one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')}; found ${JSON.stringify(dtype)}.`,
        name,
      );
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(
        `Tensor ${JSON.stringify(name)}: shape must be a list of non-negative integers; found ${JSON.stringify(t.shape)}.`,
        name,
      );
    }
    if (!arrayFits(dtype, t.data)) {
      fail(
        `Tensor ${JSON.stringify(name)}: ${dtype} data must be a ${EXPECTED_ARRAY[dtype]}; found ${Object.prototype.toString.call(t.data)}.`,
        name,
      );
    }
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== numel) {
      fail(
        `Tensor ${JSON.stringify(name)}: shape [${t.shape.join(', ')}] has ${numel} elements but the data has ${t.data.length}. Pass matching data.`,
        name,
      );
    }
    if (dtype === 'BOOL') {
      const at = (t.data as Uint8Array).findIndex((b) => b > 1);
      if (at >= 0) fail(`Tensor ${JSON.stringify(name)}: BOOL element ${at} is ${t.data[at]}; expected 0 or 1.`, name);
    }
    return { name, key: encoder.encode(name), dtype, shape: [...t.shape], bytes: dataBytes(dtype, t.data) };
  });
  items.sort(
    (a, b) => SAFETENSORS_DTYPES[b.dtype].order - SAFETENSORS_DTYPES[a.dtype].order || compareBytes(a.key, b.key),
  );

  const parts: string[] = [];
  if (metadata !== undefined && metadata !== null) {
    const fields = Object.keys(metadata).map((k) => {
      checkText('A safetensors metadata key', k);
      return `${JSON.stringify(k)}:${JSON.stringify(checkText(`Metadata value for ${JSON.stringify(k)}`, metadata[k]))}`;
    });
    parts.push(`"__metadata__":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const it of items) {
    const end = offset + it.bytes.length;
    parts.push(
      `${JSON.stringify(it.name)}:{"dtype":"${it.dtype}","shape":[${it.shape.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const it of items) {
    out.set(it.bytes, at);
    at += it.bytes.length;
  }
  return out;
}

/** Checks that `t` is a live tensor of a dtype the writer takes (before any read). */
function checkWritable(name: string, t: tf.Tensor | undefined): asserts t is tf.Tensor {
  if (!t || typeof t.data !== 'function' || t.isDisposed) {
    fail(
      `Tensor ${JSON.stringify(name)} is not a live tf.Tensor (found ${t?.isDisposed ? 'a disposed tensor' : typeof t}). Pass tensors that are not disposed.`,
      name,
    );
  }
  if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') {
    fail(
      `Tensor ${JSON.stringify(name)} has dtype ${t.dtype}; safetensors files here hold float32, int32 or bool tensors. Cast it first.`,
      name,
    );
  }
}

/** The encoder input for a tensor whose values have been read. */
function tensorInput(t: tf.Tensor, values: tf.TypedArray, options: WriteSafetensorsOptions): SafetensorsTensorInput {
  if (t.dtype === 'float32') {
    const dtype = options.floatDtype ?? 'F32';
    const f32 = values as Float32Array;
    return { dtype, shape: t.shape, data: dtype === 'F16' ? f32ToF16(f32) : dtype === 'BF16' ? f32ToBf16(f32) : f32 };
  }
  if (t.dtype === 'int32') return { dtype: options.intDtype ?? 'I32', shape: t.shape, data: values as Int32Array };
  return { dtype: 'BOOL', shape: t.shape, data: Uint8Array.from(values as Uint8Array, (v) => (v ? 1 : 0)) };
}

/**
 * Writes tfjs tensors as a safetensors file, reading their data asynchronously (`await t.data()` for every
 * tensor), so it works on every backend, WebGPU included. float32 → F32 (or `floatDtype`), int32 → I32 (or
 * `intDtype`), bool → BOOL. Metadata values must be strings; PEFT writes `{format: 'pt'}`.
 */
export async function writeSafetensorsAsync(
  tensors: Readonly<Record<string, tf.Tensor>>,
  metadata?: Readonly<Record<string, string>> | null,
  options: WriteSafetensorsOptions = {},
): Promise<Uint8Array> {
  const names = Object.keys(tensors);
  for (const name of names) checkWritable(name, tensors[name]);
  const values = await Promise.all(names.map((name) => tensors[name]!.data()));
  const inputs: Record<string, SafetensorsTensorInput> = {};
  names.forEach((name, i) => setOwn(inputs, name, tensorInput(tensors[name]!, values[i]!, options)));
  return encodeSafetensors(inputs, metadata);
}

/**
 * The synchronous form of {@link writeSafetensorsAsync}, for tensors on the cpu, wasm or native backend
 * (it reads with `dataSync`); on a GPU backend (webgpu, webgl) it throws a `LoraError` naming
 * `writeSafetensorsAsync`.
 */
export function writeSafetensors(
  tensors: Readonly<Record<string, tf.Tensor>>,
  metadata?: Readonly<Record<string, string>> | null,
  options: WriteSafetensorsOptions = {},
): Uint8Array {
  const inputs: Record<string, SafetensorsTensorInput> = {};
  for (const name of Object.keys(tensors)) {
    const t = tensors[name];
    checkWritable(name, t);
    requireSyncRead('writeSafetensors', 'await writeSafetensorsAsync(...)');
    setOwn(inputs, name, tensorInput(t, t.dataSync(), options));
  }
  return encodeSafetensors(inputs, metadata);
}

/** The entries of a parsed file as encoder inputs with their raw data (copied, aligned): for re-encoding unchanged. */
export function rawSafetensorsInputs(entries: readonly SafetensorsEntry[]): Record<string, SafetensorsTensorInput> {
  const out: Record<string, SafetensorsTensorInput> = {};
  for (const e of entries) {
    const copy = new Uint8Array(e.bytes);
    const n = copy.length;
    let data: SafetensorsData;
    if (e.dtype === 'F32') data = new Float32Array(copy.buffer, 0, n / 4);
    else if (e.dtype === 'I32') data = new Int32Array(copy.buffer, 0, n / 4);
    else if (e.dtype === 'I64') data = new BigInt64Array(copy.buffer, 0, n / 8);
    else if (e.dtype === 'F16' || e.dtype === 'BF16') data = new Uint16Array(copy.buffer, 0, n / 2);
    else data = copy;
    if (!LITTLE_ENDIAN && data.BYTES_PER_ELEMENT > 1) {
      for (let i = 0; i < n; i += data.BYTES_PER_ELEMENT) copy.subarray(i, i + data.BYTES_PER_ELEMENT).reverse();
    }
    setOwn(out, e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return out;
}
