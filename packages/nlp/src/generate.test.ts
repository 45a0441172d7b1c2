// generate(): greedy decoding equals the argmax of the model's own logits, adapter on/off selects the
// adapter, and the sampler follows softmax(logits / T) (frequencies against the closed form).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLora, LoraConfigError } from '@tfjs-lora/core';
import { CharTokenizer } from './char-tokenizer.js';
import { contextLength, generate, sampleToken } from './generate.js';
import { seededRandom } from './text-windows.js';
import { transformerLM } from './transformer.js';
import './register-on-import.js';

const tok = new CharTokenizer();

describe('generate', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('greedy decoding takes the argmax of the last position, and crops to the context length', () => {
    const model = transformerLM({ vocabSize: 97, maxLength: 8, width: 16, numHeads: 2, numLayers: 1, seed: 5 });
    expect(contextLength(model)).toBe(8);
    const prompt = 'Call me Ishmael';
    const before = tf.memory().numTensors;
    const text = generate(model, prompt, { temperature: 0, maxNewTokens: 3 });
    expect(tf.memory().numTensors).toBe(before);
    let ids = Array.from(tok.encode(prompt));
    let expected = '';
    for (let i = 0; i < 3; i++) {
      const ctx = ids.slice(-8);
      const logits = tf.tidy(
        () => (model.predict(tf.tensor2d(ctx, [1, ctx.length], 'int32')) as tf.Tensor).arraySync() as number[][][],
      );
      const last = logits[0]![ctx.length - 1]!;
      const next = last.indexOf(Math.max(...last));
      ids = [...ids, next];
      expected += tok.decode([next]);
    }
    expect(text).toBe(expected);
    model.dispose();
  });

  it('samples with the adapter on and off from one LoraModel', () => {
    const base = transformerLM({ vocabSize: 97, maxLength: 16, width: 16, numHeads: 2, numLayers: 1, seed: 6 });
    const lm = applyLora(
      base,
      { r: 4, targetModules: ['query', 'value', 'lm_head'], initLoraWeights: false },
      { adapterName: 'style', seed: 2 },
    );
    const opts = { maxNewTokens: 24, seed: 9 };
    const plain = generate(base, 'The ', opts);
    expect(generate(lm, 'The ', { ...opts, adapter: null })).toBe(plain);
    const on = generate(lm, 'The ', { ...opts, adapter: 'style' });
    expect(on).not.toBe(plain);
    expect(generate(lm, 'The ', opts)).toBe(on); // the active adapter by default
    expect(lm.activeAdapters).toEqual(['style']);
    expect(() => generate(base, 'x', { adapter: 'style' })).toThrow(LoraConfigError);
    lm.dispose();
    base.dispose();
  });

  it('draws tokens with probability softmax(logits / T) among the top k', () => {
    const logits = Float32Array.from([2, 1, 0, -1]);
    const random = seededRandom(3);
    const counts = [0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, 0.5, 3, random)]!++;
    const w = [2, 1, 0].map((l) => Math.exp(l / 0.5));
    const z = w.reduce((a, b) => a + b, 0);
    w.forEach((wi, i) => expect(Math.abs(counts[i]! / n - wi / z)).toBeLessThan(0.015));
    expect(counts[3]).toBe(0);
    expect(sampleToken(logits, 0, 0, random)).toBe(0);
  });
});
