// generateAsync / perplexityAsync: no synchronous reads. The stand-in backend is tfjs's cpu backend and
// kernels under another name, so canReadSync() is false there: the synchronous forms must refuse naming
// the async ones, and the async forms must give the synchronous forms' results on cpu (those are checked
// against the model's own logits and a closed form in generate.test.ts / lm-training.test.ts).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { applyLora, LoraError } from '@tfjs-lora/core';
import { useRenamedCpuBackend } from '@tfjs-lora/test-support/hooks';
import { generate, generateAsync } from './generate.js';
import { perplexity, perplexityAsync } from './lm-training.js';
import { transformerLM } from './transformer.js';
import './register-on-import.js';

const OTHER = 'nlp-test-no-sync-reads';

function model(): ReturnType<typeof transformerLM> {
  return transformerLM({ vocabSize: 97, maxLength: 16, width: 16, numHeads: 2, numLayers: 1, seed: 7 });
}

const ids = Int32Array.from({ length: 400 }, (_, i) => (i * 31 + 7) % 97);

describe('asynchronous generate and perplexity', () => {
  useRenamedCpuBackend(OTHER);

  it('give the synchronous results; the synchronous forms refuse where reads are async', async () => {
    // One model: the reference runs synchronously on cpu, then the same weights move to the stand-in.
    await tf.setBackend('cpu');
    const base = model();
    const lm = applyLora(base, { r: 4, targetModules: ['query', 'lm_head'], initLoraWeights: false }, { seed: 3 });
    lm.addAdapter('b', { r: 2, targetModules: ['value'], initLoraWeights: false });
    const opts = { maxNewTokens: 12, seed: 4 };
    const want = {
      on: generate(lm, 'The ', opts),
      off: generate(lm, 'The ', { ...opts, adapter: null }),
      b: generate(lm, 'The ', { ...opts, adapter: 'b', temperature: 0 }),
      ppl: perplexity(lm.model, ids, { length: 16, maxWindows: 10, batchSize: 4 }),
    };
    expect(new Set([want.on, want.off, want.b]).size).toBe(3);

    await tf.setBackend(OTHER);
    expect(() => generate(lm, 'The ', opts)).toThrow(/generateAsync/);
    expect(() => perplexity(lm.model, ids, { length: 16 })).toThrow(LoraError);
    expect(() => perplexity(lm.model, ids, { length: 16 })).toThrow(/perplexityAsync/);
    const before = tf.memory().numTensors;
    expect(await generateAsync(lm, 'The ', opts)).toBe(want.on);
    expect(await generateAsync(lm, 'The ', { ...opts, adapter: null })).toBe(want.off);
    expect(await generateAsync(lm, 'The ', { ...opts, adapter: 'b', temperature: 0 })).toBe(want.b);
    expect(lm.activeAdapters).toEqual(['default']);
    const ppl = await perplexityAsync(lm.model, ids, { length: 16, maxWindows: 10, batchSize: 4 });
    expect(Math.abs(ppl - want.ppl)).toBeLessThan(1e-4 * want.ppl);
    expect(tf.memory().numTensors).toBe(before);
    await expect(generateAsync(base, 'x', { adapter: 'b' })).rejects.toThrow(/needs a LoraModel/);
    lm.dispose();
    base.dispose();
    await tf.setBackend('cpu');
  });
});
