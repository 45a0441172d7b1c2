// Fuzz: mutated, truncated and header-edited variants of the safetensors files of the repository's
// PEFT fixtures (@tfjs-lora/test-support)
// must either read or fail with AdapterFormatError — never another exception, a hang, or a leak.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureFiles } from '@tfjs-lora/test-support';
import { AdapterFormatError } from './errors/index.js';
import { readSafetensors } from './safetensors.js';
import { seededRandom } from './random.js';

const VARIANTS = Number(process.env.TFJS_LORA_FUZZ_VARIANTS ?? 20_000);

/** A small seeded PRNG so a failure can be replayed. */
const rng = seededRandom;

const enc = new TextEncoder();
const dec = new TextDecoder();

function headerOf(bytes: Uint8Array): { n: number; text: string } {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return { n, text: dec.decode(bytes.subarray(8, 8 + n)) };
}

/** Rebuilds a file with a new header text (the length prefix follows, unless `keepLength`). */
function withHeader(bytes: Uint8Array, text: string, keepLength = false): Uint8Array {
  const { n } = headerOf(bytes);
  const json = enc.encode(text);
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - n);
  new DataView(out.buffer).setUint32(0, keepLength ? n : json.length, true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.length);
  return out;
}

const NUMBERS = [
  '0',
  '1',
  '-1',
  '4',
  '7',
  '8',
  '1e3',
  '2.5',
  '9007199254740993',
  '4294967296',
  '18446744073709551616',
  '-0',
  '00',
];
const TOKENS = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  '\\u0000',
  'null',
  'true',
  '"__metadata__"',
  '"dtype"',
  '"F64"',
  '"BOOL"',
  '"I64"',
  '"U8"',
  '"F16"',
  ' ',
  '\u00e9',
  '\ud800',
];

type Mutator = (bytes: Uint8Array, r: () => number) => Uint8Array;
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;

const MUTATORS: [string, Mutator][] = [
  ['truncate', (b, r) => b.slice(0, Math.floor(r() * b.length))],
  [
    'flip bytes in header',
    (b, r) => {
      const out = b.slice();
      const { n } = headerOf(b);
      for (let k = 1 + Math.floor(r() * 4); k > 0; k--)
        out[8 + Math.floor(r() * Math.max(1, n))] ^= 1 << Math.floor(r() * 8);
      return out;
    },
  ],
  [
    'random bytes anywhere',
    (b, r) => {
      const out = b.slice();
      for (let k = 1 + Math.floor(r() * 8); k > 0; k--) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
      return out;
    },
  ],
  [
    'length prefix',
    (b, r) => {
      const out = b.slice();
      const v = new DataView(out.buffer);
      const { n } = headerOf(b);
      const choices = [0, 1, n - 1, n + 1, n + 8, b.length, b.length - 7, 100_000_001, 0xffffffff];
      v.setUint32(0, pick(choices, r), true);
      if (r() < 0.2) v.setUint32(4, 1 + Math.floor(r() * 0xffffffff), true);
      return out;
    },
  ],
  [
    'edit a number in the header',
    (b, r) => {
      const { text } = headerOf(b);
      const nums = [...text.matchAll(/\d+/g)];
      if (nums.length === 0) return b;
      const m = pick(nums, r);
      return withHeader(b, text.slice(0, m.index) + pick(NUMBERS, r) + text.slice(m.index! + m[0].length), r() < 0.3);
    },
  ],
  [
    'insert a token in the header',
    (b, r) => {
      const { text } = headerOf(b);
      const at = Math.floor(r() * text.length);
      return withHeader(b, text.slice(0, at) + pick(TOKENS, r) + text.slice(at), r() < 0.3);
    },
  ],
  [
    'delete a span of the header',
    (b, r) => {
      const { text } = headerOf(b);
      const at = Math.floor(r() * text.length);
      return withHeader(b, text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 20)));
    },
  ],
  [
    'duplicate a tensor entry',
    (b, r) => {
      const { text } = headerOf(b);
      const entries = [...text.matchAll(/"[^"]+":\{"dtype":[^}]*\}/g)];
      if (entries.length === 0) return b;
      const e = pick(entries, r)[0];
      const renamed = r() < 0.5 ? e : e.replace(/^"([^"]+)"/, '"$1_copy"');
      return withHeader(b, text.replace(/\}\s*$/, `,${renamed}}`));
    },
  ],
  [
    'swap dtype',
    (b, r) => {
      const { text } = headerOf(b);
      return withHeader(
        b,
        text.replace(
          /"dtype":"[A-Z0-9_]+"/,
          `"dtype":"${pick(['F16', 'BF16', 'I64', 'I32', 'U8', 'BOOL', 'F64', 'F32', 'X'], r)}"`,
        ),
      );
    },
  ],
  [
    'drop a tensor entry',
    (b, r) => {
      const { text } = headerOf(b);
      const entries = [...text.matchAll(/,?"[^"]+":\{"dtype":[^}]*\}/g)];
      if (entries.length === 0) return b;
      const m = pick(entries, r);
      return withHeader(b, text.slice(0, m.index) + text.slice(m.index! + m[0].length));
    },
  ],
  [
    'append or drop data bytes',
    (b, r) => {
      if (r() < 0.5) return b.slice(0, Math.max(0, b.length - 1 - Math.floor(r() * 16)));
      const out = new Uint8Array(b.length + 1 + Math.floor(r() * 16));
      out.set(b);
      return out;
    },
  ],
  [
    'splice another header',
    (b, r) => {
      const other = pick(files, r).bytes;
      return withHeader(b, headerOf(other).text, r() < 0.5);
    },
  ],
];

let files: { path: string; bytes: Uint8Array }[] = [];

describe('safetensors fuzz', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    files = fixtureFiles().map((path) => ({ path, bytes: new Uint8Array(readFileSync(path)) }));
  });

  it(`${VARIANTS} mutated variants give only AdapterFormatError, no hang, no leak`, () => {
    const r = rng(20261128);
    const small = files.filter((f) => f.bytes.length < 100_000);
    const large = files.filter((f) => f.bytes.length >= 100_000);
    const before = tf.memory().numTensors;
    const counts = { ok: 0, rejected: 0 };
    const byMutator = new Map<string, number>();
    let slowest = 0;
    const started = performance.now();
    for (let i = 0; i < VARIANTS; i++) {
      // mostly the small PEFT cases; every 25th variant one of the real (MB-sized) adapters
      const source = i % 25 === 0 && large.length > 0 ? pick(large, r) : pick(small, r);
      const [name, mutate] = pick(MUTATORS, r);
      const variant = mutate(source.bytes, r);
      const t0 = performance.now();
      try {
        tf.dispose(Object.values(readSafetensors(variant)));
        counts.ok++;
      } catch (e) {
        if (!AdapterFormatError.isInstance(e)) {
          throw new Error(`variant ${i} (${name} of ${source.path}) threw ${String(e)} instead of AdapterFormatError`, {
            cause: e,
          });
        }
        counts.rejected++;
      }
      slowest = Math.max(slowest, performance.now() - t0);
      byMutator.set(name, (byMutator.get(name) ?? 0) + 1);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `fuzz: ${VARIANTS} variants in ${seconds.toFixed(1)} s (${counts.ok} read, ${counts.rejected} rejected), slowest ${slowest.toFixed(1)} ms`,
    );
    expect(counts.ok + counts.rejected).toBe(VARIANTS);
    expect(counts.rejected).toBeGreaterThan(VARIANTS / 2);
    expect(byMutator.size).toBe(MUTATORS.length);
    expect(slowest).toBeLessThan(1000);
    expect(tf.memory().numTensors).toBe(before);
  });
});
