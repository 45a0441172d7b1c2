import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureFiles, peftCasePath } from '@tfjs-lora/test-support';
import { AdapterFormatError } from './errors/index.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';
import { decodeSafetensorsEntry, parseSafetensors, readSafetensors } from './safetensors.js';
import {
  encodeSafetensors,
  rawSafetensorsInputs,
  writeSafetensors,
  writeSafetensorsAsync,
  type SafetensorsTensorInput,
} from './safetensors-write.js';

/** A header + data built by hand, for the rule tests. */
function file(header: string, data: Uint8Array = new Uint8Array(0), length?: number): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, length ?? json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function formatError(fn: () => unknown): AdapterFormatError {
  try {
    fn();
  } catch (e) {
    expect(AdapterFormatError.isInstance(e), String(e)).toBe(true);
    return e as AdapterFormatError;
  }
  throw new Error('expected an AdapterFormatError');
}

const F32 = (n: number): Uint8Array => new Uint8Array(new Float32Array(n).fill(1).buffer);

describe('safetensors', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('re-encodes every fixture byte for byte (same layout as Python safetensors)', () => {
    const files = fixtureFiles();
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const path of files) {
      const bytes = readFileSync(path);
      const parsed = parseSafetensors(bytes);
      const again = encodeSafetensors(rawSafetensorsInputs(parsed.tensors), parsed.metadata);
      expect(Buffer.from(again).equals(bytes), path).toBe(true);
    }
  });

  it('reads the PEFT linear case as PEFT wrote it', () => {
    const before = tf.memory().numTensors;
    const bytes = readFileSync(join(peftCasePath('linear'), 'adapter/adapter_model.safetensors'));
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    expect(parsed.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['base_model.model.fc.lora_A.weight', 'F32', [4, 16]],
      ['base_model.model.fc.lora_B.weight', 'F32', [32, 4]],
    ]);
    const tensors = readSafetensors(bytes);
    expect(tensors['base_model.model.fc.lora_A.weight']!.shape).toEqual([4, 16]);
    tf.dispose(Object.values(tensors));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('round-trips every dtype bit-exactly, with metadata', () => {
    const specials = new Float32Array([0, -0, 1.5, -2.25, 3.4e38, 1e-45, 1e-40, Infinity, -Infinity, NaN]);
    const inputs: Record<string, SafetensorsTensorInput> = {
      f32: { dtype: 'F32', shape: [2, 5], data: specials },
      f16: { dtype: 'F16', shape: [10], data: f32ToF16(specials) },
      bf16: { dtype: 'BF16', shape: [10], data: f32ToBf16(specials) },
      i64: { dtype: 'I64', shape: [3], data: new BigInt64Array([-(2n ** 31n), 0n, 2n ** 31n - 1n]) },
      i32: { dtype: 'I32', shape: [2], data: new Int32Array([-7, 2 ** 31 - 1]) },
      u8: { dtype: 'U8', shape: [3], data: new Uint8Array([0, 128, 255]) },
      bool: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
      empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
      scalar: { dtype: 'F32', shape: [], data: new Float32Array([4]) },
      'ünï "quoted"\n': { dtype: 'F32', shape: [1], data: new Float32Array([5]) },
    };
    const bytes = encodeSafetensors(inputs, { format: 'pt' });
    expect((new DataView(bytes.buffer).getUint32(0, true) + 8) % 8).toBe(0);
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    // Python's order: I64, F32 (by name), I32, BF16, F16, U8, BOOL
    expect(parsed.tensors.map((t) => t.name)).toEqual([
      'i64',
      'empty',
      'f32',
      'scalar',
      'ünï "quoted"\n',
      'i32',
      'bf16',
      'f16',
      'u8',
      'bool',
    ]);
    const before = tf.memory().numTensors;
    const t = readSafetensors(bytes);
    expect(new Uint32Array(Float32Array.from(t.f32!.dataSync()).buffer)).toEqual(new Uint32Array(specials.buffer));
    expect(Array.from(t.i64!.dataSync())).toEqual([-(2 ** 31), 0, 2 ** 31 - 1]);
    expect(t.i64!.dtype).toBe('int32');
    expect(Array.from(t.u8!.dataSync())).toEqual([0, 128, 255]);
    expect(t.bool!.dtype).toBe('bool');
    expect(Array.from(t.bool!.dataSync())).toEqual([1, 0]);
    expect(t.empty!.shape).toEqual([0, 3]);
    expect(t.scalar!.shape).toEqual([]);
    expect(Array.from(t.f16!.dataSync()).slice(0, 4)).toEqual([0, -0, 1.5, -2.25]);
    expect(Number.isNaN(t.bf16!.dataSync()[9])).toBe(true);
    tf.dispose(Object.values(t));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('writeSafetensorsAsync (reads with data()) writes the same bytes as writeSafetensors, leaks nothing, rejects the same inputs', async () => {
    const x = tf.tensor([-0, 1.5, NaN, 3e-39, -7.25, 65504], [2, 3]);
    const ids = tf.tensor([1, -2, 3], [3], 'int32');
    const mask = tf.tensor([true, false], [2], 'bool');
    const before = tf.memory().numTensors;
    for (const options of [
      {},
      { floatDtype: 'F16' as const, intDtype: 'I64' as const },
      { floatDtype: 'BF16' as const },
    ]) {
      const sync = writeSafetensors({ x, ids, mask }, { format: 'pt' }, options);
      expect(await writeSafetensorsAsync({ x, ids, mask }, { format: 'pt' }, options)).toEqual(sync);
    }
    expect(tf.memory().numTensors).toBe(before);
    const c = tf.complex([1], [2]);
    await expect(writeSafetensorsAsync({ c })).rejects.toThrow(/dtype complex64.*Cast it first/);
    await expect(writeSafetensorsAsync({ x: undefined as unknown as tf.Tensor })).rejects.toThrow(
      /not a live tf.Tensor/,
    );
    tf.dispose([x, ids, mask, c]);
  });

  it('writes tfjs tensors (float32, int32, bool) and reads them back; F16/BF16/I64 on request', () => {
    const x = tf.tensor([
      [1, 2.5],
      [-3, 0.1],
    ]);
    const ids = tf.tensor([1, -2, 3], [3], 'int32');
    const mask = tf.tensor([true, false], [2], 'bool');
    const before = tf.memory().numTensors;
    const back = readSafetensors(writeSafetensors({ x, ids, mask }, { format: 'pt' }));
    expect(back.x!.arraySync()).toEqual(x.arraySync());
    expect(back.ids!.arraySync()).toEqual([1, -2, 3]);
    expect(back.mask!.arraySync()).toEqual([1, 0]);
    tf.dispose(Object.values(back));
    const half = parseSafetensors(writeSafetensors({ x, ids }, null, { floatDtype: 'BF16', intDtype: 'I64' }));
    expect(half.metadata).toBeNull();
    expect(half.tensors.map((t) => t.dtype)).toEqual(['I64', 'BF16']);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ids, mask]);
  });

  it('makes zero-copy views when aligned, copies when not or when asked', () => {
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array([1, 2, 3, 4]) } });
    const entry = parseSafetensors(bytes).tensors[0]!;
    const view = decodeSafetensorsEntry(entry).values;
    expect(view.buffer).toBe(bytes.buffer);
    expect(decodeSafetensorsEntry(entry, { copy: true }).values.buffer).not.toBe(bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const misaligned = decodeSafetensorsEntry(parseSafetensors(shifted.subarray(1)).tensors[0]!).values;
    expect(misaligned.buffer).not.toBe(shifted.buffer);
    expect(Array.from(misaligned)).toEqual([1, 2, 3, 4]);
    // a Node Buffer's slice() does not copy: the reader must still produce aligned, independent data
    const buf = Buffer.concat([Buffer.from([9]), Buffer.from(bytes)]).subarray(1);
    const t = readSafetensors(buf, { copy: true });
    buf.fill(0);
    expect(Array.from(t.a!.dataSync())).toEqual([1, 2, 3, 4]);
    t.a!.dispose();
  });

  it('does not let a tensor named __proto__ touch the prototype', () => {
    const bytes = encodeSafetensors({ ['__proto__']: { dtype: 'F32', shape: [1], data: new Float32Array([1]) } });
    const t = readSafetensors(bytes);
    expect(Object.keys(t)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
    tf.dispose(Object.values(t));
  });

  describe('rejects hostile input with AdapterFormatError naming the rule', () => {
    const ok = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    it.each([
      ['too short', new Uint8Array(5), /at least the 8-byte header length/],
      ['header over 100 MB', file(ok, F32(2), 100_000_001), /exceeds the 100000000-byte limit/],
      ['header beyond the file', file(ok, F32(2), 5000), /exceeds the file/],
      ['not an object', file('[1]   ', F32(2)), /must start with '\{'/],
      ['bad JSON', file('{"a":{"dtype":"F32",}}', F32(2)), /not valid JSON: expected a key string/],
      [
        'duplicate name',
        file(
          `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`,
          F32(2),
        ),
        /key "a" twice/,
      ],
      [
        'unknown field',
        file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}', F32(2)),
        /only the fields/,
      ],
      [
        'unsupported dtype',
        file('{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', F32(2)),
        /does not read F64/,
      ],
      [
        'prototype dtype',
        file('{"a":{"dtype":"toString","shape":[1],"data_offsets":[0,8]}}', F32(2)),
        /dtype must be one of/,
      ],
      [
        'fractional shape',
        file('{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', F32(2)),
        /non-negative integers/,
      ],
      [
        'huge shape',
        file('{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}', F32(2)),
        /needs more bytes than/,
      ],
      [
        'offsets out of bounds',
        file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', F32(2)),
        /begin ≤ end ≤ 8/,
      ],
      [
        'size mismatch',
        file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}', F32(2)),
        /span 8 bytes.*needs 4/,
      ],
      [
        'overlap',
        file(
          '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
          F32(2),
        ),
        /overlaps the previous tensor/,
      ],
      ['gap', file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', F32(2)), /leaves a gap after 0/],
      [
        'trailing bytes',
        file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32(2)),
        /cover 4; expected them to cover it exactly/,
      ],
      [
        'metadata not strings',
        file('{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', F32(2)),
        /must be a string/,
      ],
      ['deep nesting', file(`{"__metadata__":${'['.repeat(50)}${']'.repeat(50)}}`), /nesting no deeper than 8/],
      [
        'I64 out of int32 range',
        file(
          '{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}',
          new Uint8Array(new BigInt64Array([2n ** 40n]).buffer),
        ),
        /outside the int32 range/,
      ],
      [
        'BOOL other than 0/1',
        file('{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}', new Uint8Array([2])),
        /expected 0 or 1/,
      ],
    ])('%s', (_what, bytes, message) => {
      const before = tf.memory().numTensors;
      const e = formatError(() => readSafetensors(bytes));
      expect(e.message).toMatch(message);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('invalid UTF-8 in the header', () => {
      const bytes = file('{"\u00e9":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', F32(2));
      bytes[10] = 0xff;
      expect(formatError(() => parseSafetensors(bytes)).message).toMatch(/not valid UTF-8/);
    });

    it('names the tensor', () => {
      const e = formatError(() =>
        parseSafetensors(file('{"lora":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', F32(2))),
      );
      expect(e.tensor).toBe('lora');
    });
  });

  it('rejects data that does not fit its dtype or shape when writing', () => {
    expect(
      formatError(() => encodeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).message,
    ).toMatch(/3 elements but the data has 2/);
    expect(
      formatError(() => encodeSafetensors({ a: { dtype: 'F16', shape: [1], data: new Float32Array(1) } })).message,
    ).toMatch(/Uint16Array/);
    expect(
      formatError(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }))
        .message,
    ).toMatch(/reserves/);
    expect(
      formatError(() => encodeSafetensors({ ['\ud800']: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }))
        .message,
    ).toMatch(/lone surrogates/);
  });
});

describe('half precision', () => {
  it('widens every F16 bit pattern exactly and narrows back to the same bits (NaN canonical)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const wide = f16ToF32(all);
    const back = f32ToF16(wide);
    for (let i = 0; i < 65536; i++) {
      const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (isNaN) expect(back[i]).toBe((i & 0x8000) | 0x7e00);
      else if (back[i] !== i) throw new Error(`f16 ${i.toString(16)} → ${wide[i]} → ${back[i]!.toString(16)}`);
    }
    expect(wide[0x3c00]).toBe(1);
    expect(wide[0x0001]).toBe(2 ** -24);
    expect(wide[0x7bff]).toBe(65504);
  });

  it('rounds float32 to F16 and BF16 to nearest even', () => {
    const x = new Float32Array([65519, 65520, 2 ** -25, 2 ** -25 * 1.0000001, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e-8]);
    expect(Array.from(f32ToF16(x))).toEqual([0x7bff, 0x7c00, 0, 1, 0x3c00, 0x3c02, 0]);
    const b = new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, -0, NaN]);
    expect(Array.from(f32ToBf16(b))).toEqual([0x3f80, 0x3f82, 0x8000, 0x7fc0]);
    expect(Array.from(bf16ToF32(new Uint16Array([0x3f80, 0xc000])))).toEqual([1, -2]);
  });
});
