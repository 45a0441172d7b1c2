// Loading Hugging Face text checkpoints: shards, F16 and BF16 weights, the Hub's URL layout (a local server),
// save/reload with tfjs's own model.save / loadLayersModel, another head than config.json's, and errors.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelFormatError, applyLora, loadPeftAdapter, loadPretrained } from '@tfjs-lora/core';
import { editedConfigFolder, hfModelChecks, saveToMemory } from '@tfjs-lora/test-support';
import { describeHubLoading } from '@tfjs-lora/test-support/hooks';
import { feeds, hfFixture, maskedMaxDiff, readReference } from '../../test-support/hf-fixtures.js';
import '../register-on-import.js';
import { buildHfTextModel } from './format.js';

const TOL = 1e-4;

async function maxDiffToReference(model: tfl.LayersModel, fixture: string, key = 'logits'): Promise<number> {
  const ref = readReference(fixture);
  const y = model.predict(feeds(model, ref)) as tf.Tensor | tf.Tensor[];
  const first = Array.isArray(y) ? y[0]! : y;
  const diff = await maskedMaxDiff(first, ref[key]!, ref['attention_mask']!);
  tf.dispose([y, ...Object.values(ref)]);
  return diff;
}

async function maxAbs(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const [v] = await d.data();
  d.dispose();
  return v!;
}

const hf = hfModelChecks({
  loadPretrained,
  loadPeftAdapter,
  applyLora,
  fixture: hfFixture,
  diffToReference: maxDiffToReference,
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('hf-text checkpoints', () => {
  it.each([
    ['gpt2-lm-sharded', 'shards listed in model.safetensors.index.json'],
    ['distilbert-cls-f16', 'F16 weights'],
    ['bert-cls-bf16', 'BF16 weights'],
    ['gpt2-cls-leftpad', 'left padding: the last non-padding token is pooled'],
  ])('%s (%s) gives transformers’ logits', async (fixture) => {
    const before = tf.memory().numTensors;
    expect(await hf.checkpointDiff(fixture)).toBeLessThan(TOL);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the sharded checkpoint holds the same weights as the single file', async () => {
    const one = await hf.load(hfFixture('gpt2-lm'));
    const sharded = await hf.load(hfFixture('gpt2-lm-sharded'));
    const a = one.getWeights();
    const b = sharded.getWeights();
    expect(b.length).toBe(a.length);
    for (const [i, w] of a.entries()) expect(await maxAbs(w, b[i]!)).toBe(0);
    one.dispose();
    sharded.dispose();
  });

  it('saves and reloads with model.save / tf.loadLayersModel (custom layers registered)', async () => {
    const model = await hf.load(hfFixture('gpt2-cls'));
    const artifacts = await saveToMemory(model);
    model.dispose();
    for (const fixture of ['gpt2-cls']) {
      const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
      expect(reloaded.inputNames).toEqual(['input_ids', 'attention_mask']);
      expect(await maxDiffToReference(reloaded, fixture)).toBeLessThan(TOL);
      // the reloaded model still takes the PEFT adapter by name
      expect(await hf.adapterDiff(reloaded, hfFixture(fixture, 'adapter'), fixture)).toBeLessThan(TOL);
      reloaded.dispose();
    }
  });

  it('reloads BERT and DistilBERT (two outputs, token types, pooling) the same way', async () => {
    for (const fixture of ['bert', 'distilbert-cls']) {
      const model = await hf.load(hfFixture(fixture));
      const artifacts = await saveToMemory(model);
      model.dispose();
      const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
      expect(await maxDiffToReference(reloaded, fixture)).toBeLessThan(TOL);
      reloaded.dispose();
    }
  });

  it('builds another head of the family: BertForSequenceClassification from a BertModel checkpoint', async () => {
    const model = await hf.load(hfFixture('bert'), { architecture: 'BertForSequenceClassification', numLabels: 4 });
    expect(model.name).toBe('BertForSequenceClassification');
    expect(model.outputs[0]!.shape).toEqual([null, 4]);
    expect(model.getUserDefinedMetadata()).toEqual({
      huggingFace: { architecture: 'BertForSequenceClassification', newlyInitialized: ['classifier'] },
    });
    // the trunk came from the checkpoint (stored without the 'bert.' prefix)
    expect(await hf.trunkDiff(model, 'bert', 'bert', 'encoder.layer.1.output.dense')).toBe(0);
    model.dispose();
  });

  it('buildHfTextModel gives a random-weight model of a config.json', () => {
    const model = buildHfTextModel(
      { model_type: 'gpt2', n_layer: 1, n_embd: 16, n_head: 2, vocab_size: 50, n_positions: 8 },
      { seed: 1 },
    );
    expect(model.name).toBe('GPT2LMHeadModel');
    expect(model.getLayer('transformer.h.0.mlp.c_fc').getWeights()[0]!.shape).toEqual([16, 64]);
    model.dispose();
  });

  it('refuses other architectures with the list it builds, and configs that do not fit the weights', async () => {
    await expect(
      hf.load(hfFixture('gpt2-lm'), { format: 'hf-text', architecture: 'LlamaForCausalLM' }),
    ).rejects.toThrow(/'LlamaForCausalLM' is not one the 'hf-text' format builds; supported: GPT2LMHeadModel/);
    const files = await editedConfigFolder(hfFixture('gpt2-lm'), { n_embd: 64 });
    const before = tf.memory().numTensors;
    const error = await loadPretrained(files).catch((e: unknown) => e);
    expect(ModelFormatError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /'transformer.wte.weight' is \[100, 32\] but layer 'transformer.wte' needs \[100, 64\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describeHubLoading(hf, 'distilbert-cls', { adapter: 'its PEFT adapter', tolerance: TOL });
