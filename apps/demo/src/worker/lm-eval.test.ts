// The demo's awaited perplexity and sampling agree with @tfjs-lora/nlp's synchronous perplexity and generate
// (the reference, run on the cpu backend where a synchronous read is allowed), adapter on and off, and leave
// no tensors behind.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { applyLora } from '@tfjs-lora/core';
import { CharTokenizer, generate, perplexity, transformerLM } from '@tfjs-lora/nlp';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateAsync, perplexityAsync } from './lm-eval.js';

const TEXT =
  'Mr. Speaker, Mr. President, distinguished members of the Congress, honored guests, and fellow citizens: ' +
  'the state of our union is strong, and we shall meet the tests of the years ahead together.';

describe('lm-eval (awaited reads)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('perplexityAsync equals nlp perplexity, and leaks nothing', async () => {
    const model = transformerLM({ vocabSize: 97, maxLength: 16, width: 16, numHeads: 2, numLayers: 1, seed: 3 });
    const ids = new CharTokenizer().encode(TEXT);
    const options = { length: 16, maxWindows: 9, batchSize: 4 }; // three batches, the last one short
    const expected = perplexity(model, ids, options);
    const before = tf.memory().numTensors;
    const got = await perplexityAsync(model, ids, options);
    expect(tf.memory().numTensors).toBe(before);
    expect(got).toBeGreaterThan(1);
    expect(Math.abs(got - expected)).toBeLessThan(1e-9 * expected);
    model.dispose();
  });

  it('generateAsync samples what nlp generate samples, with the adapter on, off and by name', async () => {
    const base = transformerLM({ vocabSize: 97, maxLength: 16, width: 16, numHeads: 2, numLayers: 1, seed: 6 });
    const lm = applyLora(
      base,
      { r: 4, targetModules: ['query', 'value', 'lm_head'], initLoraWeights: false },
      { adapterName: 'style', seed: 2 },
    );
    const opts = { maxNewTokens: 20, seed: 9 };
    const before = tf.memory().numTensors;
    const off = await generateAsync(lm, 'The ', { ...opts, adapter: null });
    const on = await generateAsync(lm, 'The ', opts);
    const named = await generateAsync(lm, 'The ', { ...opts, adapter: 'style', temperature: 0 });
    const plain = await generateAsync(base, '', { ...opts, topK: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(off).toBe(generate(lm, 'The ', { ...opts, adapter: null }));
    expect(on).toBe(generate(lm, 'The ', opts));
    expect(on).not.toBe(off);
    expect(named).toBe(generate(lm, 'The ', { ...opts, adapter: 'style', temperature: 0 }));
    expect(plain).toBe(generate(base, '', { ...opts, topK: 5 }));
    expect(off).toHaveLength(20);
    expect(lm.activeAdapters).toEqual(['style']);
    lm.dispose();
    base.dispose();
  });
});
