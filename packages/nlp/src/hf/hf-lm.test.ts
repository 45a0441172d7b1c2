// nlp's language-model helpers on a Hugging Face causal LM (fixtures/hf/gpt2-lm-bpe: GPT2LMHeadModel with the
// BPE tokenizer's 400 ids, its tokenizer.json, and lm-reference.json from scripts/make-hf-fixtures.py):
// tokenizer ids, perplexity on nlp's evaluation windows and greedy `generate` as transformers 5.18 computes
// them, on cpu and wasm; then LoRA training on the text lowers the perplexity, with no tensor left behind.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyLora, loadPretrained } from '@tfjs-lora/core';
import { activate, wasmUnavailable } from '../../test-support/backends.js';
import { hfFixture } from '../../test-support/hf-fixtures.js';
import { generate, generateAsync } from '../generate.js';
import { lmInputs } from '../lm-inputs.js';
import { perplexity, perplexityAsync, trainLanguageModel } from '../lm-training.js';
import '../register-on-import.js';
import { loadTokenizer } from './tokenizer.js';

const ref = JSON.parse(readFileSync(hfFixture('gpt2-lm-bpe', 'lm-reference.json'), 'utf8')) as {
  text: string;
  ids: number[];
  length: number;
  windows: number;
  perplexity: number;
  prompt: string;
  greedy_ids: number[];
  greedy_text: string;
};
const wasmReason = await wasmUnavailable();
if (wasmReason) console.warn(`SKIP Hugging Face LM helpers on wasm: ${wasmReason}`);

describe.each([
  { backend: 'cpu' as const, skip: false },
  { backend: 'wasm' as const, skip: wasmReason !== null },
])('a Hugging Face GPT-2 as a next-token model on $backend', ({ backend, skip }) => {
  it.skipIf(skip)('perplexity and greedy generation as transformers computes them', async () => {
    await activate(backend);
    const model = (await loadPretrained(hfFixture('gpt2-lm-bpe'))) as tfl.LayersModel;
    const tokenizer = await loadTokenizer(hfFixture('gpt2-lm-bpe'));
    const before = tf.memory().numTensors;
    const ids = Int32Array.from(tokenizer.encode(ref.text).ids);
    expect(Array.from(ids)).toEqual(ref.ids);
    const options = { length: ref.length, maxWindows: ref.windows, batchSize: 3 };
    const ppl = await perplexityAsync(model, ids, options);
    expect(Math.abs(ppl / ref.perplexity - 1)).toBeLessThan(1e-4);
    expect(Math.abs(perplexity(model, ids, options) / ppl - 1)).toBeLessThan(1e-6);
    const greedy = { tokenizer, temperature: 0, maxNewTokens: ref.greedy_ids.length };
    const text = await generateAsync(model, ref.prompt, greedy);
    expect(text).toBe(ref.greedy_text);
    expect(tokenizer.encode(text).ids).toEqual(ref.greedy_ids);
    expect(generate(model, ref.prompt, greedy)).toBe(text);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it.skipIf(skip)(
    'LoRA on c_attn trained on the text lowers its perplexity; samples with the adapter on and off',
    async () => {
      await activate(backend);
      const model = (await loadPretrained(hfFixture('gpt2-lm-bpe'))) as tfl.LayersModel;
      const tokenizer = await loadTokenizer(hfFixture('gpt2-lm-bpe'));
      const ids = Int32Array.from(tokenizer.encode(ref.text).ids);
      const options = { length: ref.length, maxWindows: ref.windows };
      const base = await perplexityAsync(model, ids, options);
      const lm = applyLora(model, { r: 4, loraAlpha: 8, targetModules: ['c_attn'] });
      const before = tf.memory().numTensors;
      const losses: number[] = [];
      await trainLanguageModel(lm.model, ids, {
        steps: 30,
        batchSize: 8,
        length: 16,
        learningRate: 0.02,
        onStep: (_, loss) => void losses.push(loss),
      });
      expect(tf.memory().numTensors).toBe(before);
      const tuned = await perplexityAsync(lm.model, ids, options);
      expect(tuned).toBeLessThan(base * 0.5);
      expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses.slice(0, 5).reduce((a, b) => a + b) / 5);
      const greedy = { tokenizer, temperature: 0, maxNewTokens: ref.greedy_ids.length };
      expect(await generateAsync(lm, ref.prompt, { ...greedy, adapter: null })).toBe(ref.greedy_text);
      expect(await generateAsync(lm, ref.prompt, greedy)).not.toBe(ref.greedy_text);
      lm.dispose();
      model.dispose();
    },
  );
});

describe('lmInputs', () => {
  it('feeds a one-input model the ids, and names the inputs it cannot fill', async () => {
    await activate('cpu');
    const model = (await loadPretrained(hfFixture('gpt2-lm-bpe'))) as tfl.LayersModel;
    const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const feed = tf.tidy(() => lmInputs(model, ids)) as tf.Tensor[];
    expect(model.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(await feed[1]!.array()).toEqual([[1, 1, 1]]);
    const fake = { inputs: [0, 0], inputNames: ['input_ids', 'pixel_values'] } as unknown as tfl.LayersModel;
    expect(() => lmInputs(fake, ids)).toThrow(/found input_ids, pixel_values/);
    const single = { inputs: [0], inputNames: ['x'] } as unknown as tfl.LayersModel;
    expect(lmInputs(single, ids)).toBe(ids);
    tf.dispose([ids, feed[1]!]);
    model.dispose();
  });
});
