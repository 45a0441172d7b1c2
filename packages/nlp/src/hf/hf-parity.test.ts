// Parity with transformers 5.18 / PEFT 0.21 (fixtures/hf/, scripts/make-hf-fixtures.py): each architecture's
// outputs from loadPretrained within 1e-4 of PyTorch's on cpu and wasm, without an adapter, with a PEFT
// adapter whose B is not zero (init_lora_weights=False) loaded with no module map, merged and unmerged.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLora, loadPeftAdapter, loadPretrained, type LoraModel } from '@tfjs-lora/core';
import { useModelAndReference } from '@tfjs-lora/test-support/hooks';
import { activate, wasmUnavailable } from '../../test-support/backends.js';
import { feeds, hfFixture, maskedMaxDiff, readReference } from '../../test-support/hf-fixtures.js';
import '../register-on-import.js';

const TOL = 1e-4;
const wasmReason = await wasmUnavailable();
if (wasmReason) console.warn(`SKIP Hugging Face parity on wasm: ${wasmReason}`);

const cases = [
  { fixture: 'gpt2-lm', arch: 'GPT2LMHeadModel', layer: 'transformer.h.0.attn.c_attn' },
  { fixture: 'gpt2-cls', arch: 'GPT2ForSequenceClassification', layer: 'transformer.h.1.attn.c_attn' },
  { fixture: 'distilbert', arch: 'DistilBertModel', layer: 'transformer.layer.0.attention.q_lin' },
  {
    fixture: 'distilbert-cls',
    arch: 'DistilBertForSequenceClassification',
    layer: 'distilbert.transformer.layer.1.attention.out_lin',
  },
  { fixture: 'bert', arch: 'BertModel', layer: 'encoder.layer.0.attention.self.query' },
  { fixture: 'bert-cls', arch: 'BertForSequenceClassification', layer: 'bert.encoder.layer.1.attention.self.key' },
];
const backends = [
  { backend: 'cpu' as const, skip: false },
  { backend: 'wasm' as const, skip: wasmReason !== null },
];

/** The model's outputs as a list (BertModel has two: last hidden state, pooler output). */
function outputs(y: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(y) ? y : [y];
}

async function check(
  run: (x: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  ref: Record<string, tf.Tensor>,
  model: tfl.LayersModel,
  key: string,
): Promise<number> {
  const ys = outputs(run(feeds(model, ref)));
  const expected = [ref[key]!, ...(ref[`${key}_pooler`] ? [ref[`${key}_pooler`]!] : [])];
  expect(ys.length).toBe(expected.length);
  let worst = 0;
  for (const [i, y] of ys.entries())
    worst = Math.max(worst, await maskedMaxDiff(y, expected[i]!, ref['attention_mask']!));
  tf.dispose(ys);
  return worst;
}

describe.each(backends)('Hugging Face parity on $backend', ({ backend, skip }) => {
  beforeAll(async () => {
    if (!skip) await activate(backend);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  describe.each(cases)('$arch ($fixture)', ({ fixture, arch, layer }) => {
    const loaded = useModelAndReference(
      skip,
      async () => (await loadPretrained(hfFixture(fixture))) as tfl.LayersModel,
      () => readReference(fixture),
    );

    it.skipIf(skip)('is built with the Hugging Face names and inputs, and gives transformers’ outputs', async () => {
      const { model, ref } = loaded;
      expect(model.name).toBe(arch);
      expect(model.getLayer(layer)).toBeDefined();
      expect(model.inputNames).toEqual(
        arch.startsWith('Bert') ? ['input_ids', 'attention_mask', 'token_type_ids'] : ['input_ids', 'attention_mask'],
      );
      const before = tf.memory().numTensors;
      const diff = await check((x) => model.predict(x), ref, model, 'logits');
      expect(tf.memory().numTensors).toBe(before);
      console.log(`${backend} ${fixture} base max diff ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(TOL);
    });

    it.skipIf(skip)('applies the PEFT adapter with no module map: unmerged and merged', async () => {
      const { model, ref } = loaded;
      const adapter = await loadPeftAdapter(hfFixture(fixture, 'adapter'));
      const lm: LoraModel = applyLora(model, adapter);
      adapter.dispose();
      try {
        expect(lm.loraLayers().map((l) => l.path)).toContain(layer);
        expect(lm.peftLoadReport('default')!.skipped).toEqual([]);
        const unmerged = await check((x) => lm.predict(x), ref, model, 'logits_lora');
        expect(unmerged).toBeLessThan(TOL);
        await Promise.resolve(lm.merge());
        const merged = await check((x) => lm.predict(x), ref, model, 'logits_merged');
        console.log(
          `${backend} ${fixture} adapter max diff unmerged ${unmerged.toExponential(2)} merged ${merged.toExponential(2)}`,
        );
        expect(merged).toBeLessThan(TOL);
        lm.unmerge();
        expect(await check((x) => lm.predict(x), ref, model, 'logits_lora')).toBeLessThan(TOL);
        lm.disableAdapters();
        expect(await check((x) => lm.predict(x), ref, model, 'logits')).toBeLessThan(TOL);
      } finally {
        lm.dispose();
      }
    });
  });
});
