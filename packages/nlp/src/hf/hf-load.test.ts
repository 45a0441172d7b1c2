// Loading Hugging Face text checkpoints: shards, F16 and BF16 weights, the Hub's URL layout (a local server),
// save/reload with tfjs's own model.save / loadLayersModel, another head than config.json's, and errors.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFormatError, applyLora, loadPeftAdapter, loadPretrained } from '@tfjs-lora/core';
import { editedConfigFolder, saveToMemory, startHubServer, type HubServer } from '@tfjs-lora/test-support';
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

async function load(source: string, options = {}): Promise<tfl.LayersModel> {
  return (await loadPretrained(source, options)) as tfl.LayersModel;
}

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
    const model = await load(hfFixture(fixture));
    expect(await maxDiffToReference(model, fixture)).toBeLessThan(TOL);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the sharded checkpoint holds the same weights as the single file', async () => {
    const one = await load(hfFixture('gpt2-lm'));
    const sharded = await load(hfFixture('gpt2-lm-sharded'));
    const a = one.getWeights();
    const b = sharded.getWeights();
    expect(b.length).toBe(a.length);
    for (const [i, w] of a.entries()) expect(await maxAbs(w, b[i]!)).toBe(0);
    one.dispose();
    sharded.dispose();
  });

  it('saves and reloads with model.save / tf.loadLayersModel (custom layers registered)', async () => {
    const model = await load(hfFixture('gpt2-cls'));
    const artifacts = await saveToMemory(model);
    model.dispose();
    for (const fixture of ['gpt2-cls']) {
      const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
      expect(reloaded.inputNames).toEqual(['input_ids', 'attention_mask']);
      expect(await maxDiffToReference(reloaded, fixture)).toBeLessThan(TOL);
      // the reloaded model still takes the PEFT adapter by name
      const adapter = await loadPeftAdapter(hfFixture(fixture, 'adapter'));
      const lm = applyLora(reloaded, adapter);
      adapter.dispose();
      expect(await maxDiffToReference(lm.model, fixture, 'logits_lora')).toBeLessThan(TOL);
      lm.dispose();
      reloaded.dispose();
    }
  });

  it('reloads BERT and DistilBERT (two outputs, token types, pooling) the same way', async () => {
    for (const fixture of ['bert', 'distilbert-cls']) {
      const model = await load(hfFixture(fixture));
      const artifacts = await saveToMemory(model);
      model.dispose();
      const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
      expect(await maxDiffToReference(reloaded, fixture)).toBeLessThan(TOL);
      reloaded.dispose();
    }
  });

  it('builds another head of the family: BertForSequenceClassification from a BertModel checkpoint', async () => {
    const model = await load(hfFixture('bert'), { architecture: 'BertForSequenceClassification', numLabels: 4 });
    expect(model.name).toBe('BertForSequenceClassification');
    expect(model.outputs[0]!.shape).toEqual([null, 4]);
    expect(model.getUserDefinedMetadata()).toEqual({
      huggingFace: { architecture: 'BertForSequenceClassification', newlyInitialized: ['classifier'] },
    });
    // the trunk came from the checkpoint (stored without the 'bert.' prefix)
    const base = await load(hfFixture('bert'));
    const [a, b] = [model.getLayer('bert.encoder.layer.1.output.dense'), base.getLayer('encoder.layer.1.output.dense')];
    expect(await maxAbs(a.getWeights()[0]!, b.getWeights()[0]!)).toBe(0);
    model.dispose();
    base.dispose();
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
    await expect(load(hfFixture('gpt2-lm'), { format: 'hf-text', architecture: 'LlamaForCausalLM' })).rejects.toThrow(
      /'LlamaForCausalLM' is not one the 'hf-text' format builds; supported: GPT2LMHeadModel/,
    );
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

describe('hf:// from a server with the Hub’s URL layout', () => {
  let hub: HubServer;
  beforeAll(async () => {
    hub = await startHubServer((repo, file) => (repo.startsWith('tiny/') ? hfFixture(repo.slice(5), file) : undefined));
  });
  afterAll(() => hub.close());

  it('loads hf://org/name and its PEFT adapter from the same server', async () => {
    const model = await load('hf://tiny/distilbert-cls', { hubEndpoint: hub.endpoint });
    expect(await maxDiffToReference(model, 'distilbert-cls')).toBeLessThan(TOL);
    expect(hub.requested).toContain('/tiny/distilbert-cls/resolve/main/config.json');
    expect(hub.requested).toContain('/tiny/distilbert-cls/resolve/main/model.safetensors');
    const adapter = await loadPeftAdapter(hub.url('tiny/distilbert-cls', 'adapter/'));
    const lm = applyLora(model, adapter);
    adapter.dispose();
    expect(await maxDiffToReference(lm.model, 'distilbert-cls', 'logits_lora')).toBeLessThan(TOL);
    lm.dispose();
    model.dispose();
  });
});
