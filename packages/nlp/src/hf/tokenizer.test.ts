// loadTokenizer against Python's tokenizers: a byte-level BPE (GPT-2 style) and a WordPiece (BERT style)
// tokenizer trained offline (scripts/make-hf-fixtures.py), the ids of 50 corpus lines with accents, CJK,
// emoji, RTL scripts, combining marks and odd whitespace, a pair with token types, and decoding.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelFormatError, loadPretrained } from '@tfjs-lora/core';
import { hfFixture } from '../../test-support/hf-fixtures.js';
import '../register-on-import.js';
import { loadTokenizer } from './tokenizer.js';

interface Expected {
  ids: number[][];
  pair: { ids: number[]; type_ids: number[] };
  decoded: string[];
}
const reference = JSON.parse(readFileSync(hfFixture('tokenizers', 'tokenizer-ids.json'), 'utf8')) as {
  lines: string[];
  end_to_end: { tokenizer: string; model: string; sentences: string[]; input_ids: number[][]; logits: number[][] };
} & Record<'bpe' | 'wordpiece', Expected>;

describe.each(['bpe', 'wordpiece'] as const)('%s tokenizer.json', (kind) => {
  const expected = reference[kind];

  it('gives the ids of Python’s tokenizers on every corpus line', async () => {
    const tok = await loadTokenizer(hfFixture('tokenizers', `${kind}.json`));
    const mismatches = reference.lines.filter((line, i) => {
      const ids = tok.encode(line).ids;
      return JSON.stringify(ids) !== JSON.stringify(expected.ids[i]);
    });
    expect(mismatches).toEqual([]);
    expect(reference.lines.length).toBe(50);
  });

  it('encodes a pair with token types and decodes as Python does', async () => {
    const tok = await loadTokenizer(hfFixture('tokenizers', `${kind}.json`));
    const pair = tok.encode(reference.lines[0]!, { pair: reference.lines[4]! });
    expect(pair.ids).toEqual(expected.pair.ids);
    expect(pair.tokenTypeIds).toEqual(expected.pair.type_ids);
    const differing = expected.ids.filter((ids, i) => tok.decode(ids) !== expected.decoded[i]);
    expect(differing).toEqual([]);
  });
});

describe('encodeBatch', () => {
  it('right-pads to the longest row with the pad id and a 0 attention mask', async () => {
    const tok = await loadTokenizer({
      tokenizer: JSON.parse(readFileSync(hfFixture('tokenizers', 'wordpiece.json'), 'utf8')) as Record<string, unknown>,
      config: { pad_token: '[PAD]' },
    });
    const pad = tok.tokenToId('[PAD]')!;
    expect(tok.padTokenId).toBe(pad);
    const texts = [reference.lines[4]!, 'a'];
    const batch = tok.encodeBatch(texts);
    const [ids, mask, types] = await Promise.all([
      batch.input_ids.array(),
      batch.attention_mask.array(),
      batch.token_type_ids.array(),
    ]);
    const long = tok.encode(texts[0]!).ids;
    const short = tok.encode('a').ids;
    expect(batch.input_ids.shape).toEqual([2, long.length]);
    expect(ids[0]).toEqual(long);
    expect(ids[1]).toEqual([...short, ...Array(long.length - short.length).fill(pad)]);
    expect(mask[1]).toEqual([...short.map(() => 1), ...Array(long.length - short.length).fill(0)]);
    expect(types.flat().every((t) => t === 0)).toBe(true);
    const cut = tok.encodeBatch(texts, { maxLength: 4 });
    expect(cut.input_ids.shape).toEqual([2, 4]);
    tf.dispose([...Object.values(batch), ...Object.values(cut)]);
  });

  it('tokenizer and model end to end: the batch and logits transformers gives for two sentences', async () => {
    const e2e = reference.end_to_end;
    const tok = await loadTokenizer(hfFixture('tokenizers', e2e.tokenizer));
    const model = (await loadPretrained(hfFixture(e2e.model))) as tfl.LayersModel;
    const batch = tok.encodeBatch(e2e.sentences);
    expect(await batch.input_ids.array()).toEqual(e2e.input_ids);
    const logits = model.predict(model.inputNames.map((n) => batch[n as keyof typeof batch])) as tf.Tensor;
    const expected = tf.tensor2d(e2e.logits);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(logits, expected))));
    expect((await diff.data())[0]).toBeLessThan(1e-4);
    tf.dispose([logits, expected, diff, ...Object.values(batch)]);
    model.dispose();
  });

  it('says what is missing when a folder has no tokenizer.json', async () => {
    await expect(loadTokenizer(hfFixture('gpt2-lm'))).rejects.toSatisfy(
      (e: unknown) => ModelFormatError.isInstance(e) && /No tokenizer.json in .*gpt2-lm/.test((e as Error).message),
    );
  });
});
