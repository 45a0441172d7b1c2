// Reader for the safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a
// JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then the tensor bytes.
// Files come from the internet, so every rule of the format is checked before any tensor is made.
import * as tf from '@tensorflow/tfjs-core';
import { AdapterFormatError } from './errors/index.js';
import { bf16ToF32, f16ToF32 } from './half.js';
import { isJsonIndex, isJsonObject, parseStrictJson, showJson, type JsonValue } from './strict-json.js';

/** The safetensors dtypes tfjs-lora reads and writes (the ones PEFT writes). */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'BOOL' | 'U8';

/** Bytes per element, and the order Python's safetensors lays dtypes out (larger first). */
export const SAFETENSORS_DTYPES: Readonly<Record<SafetensorsDtype, { bytes: number; order: number }>> = Object.freeze({
  BOOL: { bytes: 1, order: 0 },
  U8: { bytes: 1, order: 4 },
  F16: { bytes: 2, order: 11 },
  BF16: { bytes: 2, order: 12 },
  I32: { bytes: 4, order: 13 },
  F32: { bytes: 4, order: 15 },
  I64: { bytes: 8, order: 17 },
});
const OTHER_DTYPES = [
  'F64',
  'I8',
  'I16',
  'U16',
  'U32',
  'U64',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'C64',
];

/** safetensors' own limit on the JSON header (bytes). */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor of a parsed file: its header entry and a view of its raw little-endian bytes. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** [begin, end) relative to the start of the data section, as in the header. */
  readonly dataOffsets: readonly [number, number];
  /** The tensor's bytes: a view into the input (no copy). */
  readonly bytes: Uint8Array;
}

/** A validated safetensors file: metadata and tensors in header order, data not yet decoded. */
export interface ParsedSafetensors {
  /** `__metadata__` (string → string), or null when absent. */
  readonly metadata: Readonly<Record<string, string>> | null;
  readonly tensors: readonly SafetensorsEntry[];
  /** Length of the JSON header in bytes (the 8-byte prefix's value). */
  readonly headerLength: number;
}

const ADVICE = 'The file is damaged or is not a safetensors file; download or export it again.';

function bad(message: string, tensor?: string): never {
  throw new AdapterFormatError(`${message} ${ADVICE}`, { tensor });
}

/** Defines an own enumerable property (safe for names such as `__proto__`). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A plain Uint8Array view (a Node Buffer's `slice` would not copy, so subclasses are re-wrapped). */
function asBytes(input: Uint8Array | ArrayBuffer): Uint8Array {
  if (input instanceof Uint8Array) {
    return input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  }
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  return bad(`safetensors input must be a Uint8Array or ArrayBuffer; found ${Object.prototype.toString.call(input)}.`);
}

function checkEntry(name: string, info: JsonValue, dataLength: number): Omit<SafetensorsEntry, 'bytes'> {
  const where = `safetensors tensor ${JSON.stringify(name)}`;
  if (!isJsonObject(info))
    bad(`${where}: expected an object {dtype, shape, data_offsets}; found ${showJson(info)}.`, name);
  for (const key of info.keys()) {
    if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') {
      bad(`${where}: expected only the fields dtype, shape, data_offsets; found ${JSON.stringify(key)}.`, name);
    }
  }
  const dtype = info.get('dtype');
  if (typeof dtype !== 'string' || !Object.hasOwn(SAFETENSORS_DTYPES, dtype)) {
    const known = typeof dtype === 'string' && OTHER_DTYPES.includes(dtype);
    throw new AdapterFormatError(
      `${where}: dtype must be one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')}; found ${showJson(dtype)}. ` +
        (known ? `tfjs-lora does not read ${dtype as string}; convert the tensor to F32 in Python first.` : ADVICE),
      { tensor: name },
    );
  }
  const size = SAFETENSORS_DTYPES[dtype as SafetensorsDtype].bytes;
  const shape = info.get('shape');
  if (!Array.isArray(shape) || !shape.every(isJsonIndex)) {
    bad(`${where}: shape must be a list of non-negative integers; found ${showJson(shape)}.`, name);
  }
  const dims = (shape as { value: number }[]).map((d) => d.value);
  let numel = dims.includes(0) ? 0 : 1;
  for (const d of dims) {
    if (numel === 0) break;
    numel *= d;
    if (numel * size > dataLength) {
      bad(
        `${where}: shape [${dims.join(', ')}] × ${dtype} needs more bytes than the data section holds (${dataLength}).`,
        name,
      );
    }
  }
  const offsets = info.get('data_offsets');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isJsonIndex)) {
    bad(`${where}: data_offsets must be [begin, end] (two non-negative integers); found ${showJson(offsets)}.`, name);
  }
  const [begin, end] = (offsets as { value: number }[]).map((o) => o.value) as [number, number];
  if (begin > end || end > dataLength) {
    bad(
      `${where}: data_offsets [${begin}, ${end}] must satisfy begin ≤ end ≤ ${dataLength} (the data section's length).`,
      name,
    );
  }
  if (end - begin !== numel * size) {
    bad(
      `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape [${dims.join(', ')}] × ${dtype} (${size} bytes) needs ${numel * size}.`,
      name,
    );
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: dims, dataOffsets: [begin, end] };
}

/**
 * Validates a safetensors file and returns its metadata and tensor views without decoding any data.
 * Checks: the header length (≤ 100 MB and within the file), strict JSON (no duplicate names, no
 * unknown fields), dtypes, shapes, and that the data offsets are in bounds, match shape × dtype size,
 * do not overlap and tile the data section exactly. Every failure is an AdapterFormatError naming the
 * tensor and the rule. Allocates only in proportion to the header.
 */
export function parseSafetensors(input: Uint8Array | ArrayBuffer): ParsedSafetensors {
  const bytes = asBytes(input);
  if (bytes.length < 8)
    bad(`safetensors file too short: expected at least the 8-byte header length; found ${bytes.length} bytes.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const high = view.getUint32(4, true);
  const n = high === 0 ? view.getUint32(0, true) : Infinity;
  if (n > MAX_HEADER_BYTES) {
    bad(
      `safetensors header length ${high === 0 ? n : view.getBigUint64(0, true)} exceeds the ${MAX_HEADER_BYTES}-byte limit.`,
    );
  }
  if (8 + n > bytes.length)
    bad(`safetensors header length ${n} exceeds the file: only ${bytes.length - 8} bytes follow the length prefix.`);
  if (n === 0 || bytes[8] !== 0x7b)
    bad(
      `safetensors header must start with '{'; found ${n === 0 ? 'an empty header' : `byte 0x${bytes[8]!.toString(16)}`}.`,
    );
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch (e) {
    throw new AdapterFormatError(`safetensors header is not valid UTF-8. ${ADVICE}`, { cause: e });
  }
  const header = parseStrictJson(text, { what: 'The safetensors header', advice: ADVICE, maxDepth: 8 });
  if (!isJsonObject(header)) bad(`safetensors header must be a JSON object; found ${showJson(header)}.`);
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> | null = null;
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of header) {
    if (name === '__metadata__') {
      if (info === null) continue;
      if (!isJsonObject(info)) bad(`safetensors __metadata__ must be an object of strings; found ${showJson(info)}.`);
      metadata = {};
      for (const [k, v] of info) {
        if (typeof v !== 'string')
          bad(`safetensors __metadata__ value for ${JSON.stringify(k)} must be a string; found ${showJson(v)}.`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    const e = checkEntry(name, info, dataLength);
    entries.push({ ...e, bytes: bytes.subarray(dataStart + e.dataOffsets[0], dataStart + e.dataOffsets[1]) });
  }
  const sorted = [...entries].sort(
    (a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1],
  );
  let at = 0;
  for (const e of sorted) {
    const [begin, end] = e.dataOffsets;
    if (begin !== at) {
      const rule = begin < at ? `overlaps the previous tensor, which ends at ${at}` : `leaves a gap after ${at}`;
      bad(
        `safetensors tensor ${JSON.stringify(e.name)}: data_offsets [${begin}, ${end}] ${rule}; tensors must be contiguous and not overlap.`,
        e.name,
      );
    }
    at = end;
  }
  if (at !== dataLength)
    bad(
      `safetensors data section has ${dataLength} bytes but the tensors cover ${at}; expected them to cover it exactly.`,
    );
  return { metadata, tensors: entries, headerLength: n };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A typed-array view of `bytes` when aligned on a little-endian host, else an aligned copy. */
function typed<T>(
  bytes: Uint8Array,
  size: number,
  make: (buf: ArrayBufferLike, offset: number, length: number) => T,
  copy: boolean,
): T {
  const aligned = bytes.byteOffset % size === 0 && LITTLE_ENDIAN && !copy ? bytes : bytes.slice();
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < aligned.length; i += size) aligned.subarray(i, i + size).reverse();
  }
  return make(aligned.buffer, aligned.byteOffset, aligned.length / size);
}

/** Decoded tensor data in a tfjs dtype: F16/BF16 widen to float32, I64 and U8 become int32. */
export interface DecodedTensorData {
  dtype: 'float32' | 'int32' | 'bool';
  values: Float32Array | Int32Array | Uint8Array;
}

/**
 * Decodes one entry into tfjs-ready values. F32, I32 and BOOL are zero-copy views of the input when the
 * data is aligned (unless `copy`); I64 is range-checked into int32; BOOL bytes must be 0 or 1.
 */
export function decodeSafetensorsEntry(entry: SafetensorsEntry, options: { copy?: boolean } = {}): DecodedTensorData {
  const { bytes, name } = entry;
  const copy = options.copy ?? false;
  switch (entry.dtype) {
    case 'F32':
      return { dtype: 'float32', values: typed(bytes, 4, (b, o, l) => new Float32Array(b, o, l), copy) };
    case 'I32':
      return { dtype: 'int32', values: typed(bytes, 4, (b, o, l) => new Int32Array(b, o, l), copy) };
    case 'F16':
      return { dtype: 'float32', values: f16ToF32(typed(bytes, 2, (b, o, l) => new Uint16Array(b, o, l), false)) };
    case 'BF16':
      return { dtype: 'float32', values: bf16ToF32(typed(bytes, 2, (b, o, l) => new Uint16Array(b, o, l), false)) };
    case 'U8':
      return { dtype: 'int32', values: Int32Array.from(bytes) };
    case 'BOOL': {
      const at = bytes.findIndex((b) => b > 1);
      if (at >= 0)
        bad(`safetensors tensor ${JSON.stringify(name)}: BOOL element ${at} is ${bytes[at]}; expected 0 or 1.`, name);
      return { dtype: 'bool', values: copy ? bytes.slice() : bytes };
    }
    case 'I64': {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out = new Int32Array(bytes.length / 8);
      for (let i = 0; i < out.length; i++) {
        const lo = view.getUint32(8 * i, true);
        const hi = view.getInt32(8 * i + 4, true);
        // in int32 range exactly when the high word is the sign extension of the low word
        if (hi !== (lo & 0x80000000 ? -1 : 0)) {
          bad(
            `safetensors tensor ${JSON.stringify(name)}: I64 element ${i} is ${view.getBigInt64(8 * i, true)}, outside the int32 range tfjs uses for integers.`,
            name,
          );
        }
        out[i] = lo | 0;
      }
      return { dtype: 'int32', values: out };
    }
  }
}

/**
 * Reads a safetensors file into tensors keyed by name. Validates everything first (see
 * {@link parseSafetensors}), then decodes (see {@link decodeSafetensorsEntry}); on any failure no tensor
 * is left allocated. With zero-copy views (the default) the cpu backend's tensors share memory with
 * `input`: do not modify `input` afterwards, or pass `{copy: true}`. Decoding allocates only for the
 * tensors the file really holds: at most 2× their bytes for F16/BF16 (widened to float32) and 4× for U8
 * (tfjs has no uint8 dtype, so int32), never an amount taken from the header alone.
 */
export function readSafetensors(
  input: Uint8Array | ArrayBuffer,
  options: { copy?: boolean } = {},
): Record<string, tf.Tensor> {
  return safetensorsTensors(parseSafetensors(input), options);
}

/** Decodes every entry of a parsed file into tensors (all validation first; nothing allocated on failure). */
export function safetensorsTensors(
  parsed: ParsedSafetensors,
  options: { copy?: boolean } = {},
): Record<string, tf.Tensor> {
  const decoded = parsed.tensors.map((e) => ({ entry: e, data: decodeSafetensorsEntry(e, options) }));
  const out: Record<string, tf.Tensor> = {};
  for (const { entry, data } of decoded) setOwn(out, entry.name, tf.tensor(data.values, [...entry.shape], data.dtype));
  return out;
}

/** The `__metadata__` of a safetensors file (validated like {@link parseSafetensors}), or null. */
export function readSafetensorsMetadata(input: Uint8Array | ArrayBuffer): Readonly<Record<string, string>> | null {
  return parseSafetensors(input).metadata;
}
