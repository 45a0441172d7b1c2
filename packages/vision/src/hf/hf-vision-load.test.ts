// Loading Hugging Face ViT checkpoints: F16 and BF16 weights, the Hub's URL layout (a local server),
// save/reload with tfjs's own model.save / loadLayersModel (custom layers and module aliases kept), another
// head than config.json's, and errors.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelFormatError, applyLora, loadPeftAdapter, loadPretrained } from '@tfjs-lora/core';
import { editedConfigFolder, hfModelChecks, saveToMemory } from '@tfjs-lora/test-support';
import { describeHubLoading } from '@tfjs-lora/test-support/hooks';
import { compareOutputs, hfFixture, readReference } from '../../test-support/hf-fixtures.js';
import '../register-on-import.js';
import { buildHfVisionModel } from './format.js';

const TOL = 1e-4;

async function diffToReference(model: tfl.LayersModel, fixture: string, key = 'logits'): Promise<number> {
  const ref = readReference(fixture);
  const diff = await compareOutputs(model.predict(ref['pixel_values']!), ref, key);
  tf.dispose(Object.values(ref));
  return diff;
}

const hf = hfModelChecks({ loadPretrained, loadPeftAdapter, applyLora, fixture: hfFixture, diffToReference });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('hf-vision checkpoints', () => {
  it.each([
    ['vit-cls-bf16', 'BF16 weights'],
    ['vit-f16', 'F16 weights, ViTModel without a pooler'],
    ['resnet-basic', 'ResNet with basic layers, 24×24 images'],
  ])('%s (%s) gives transformers’ outputs, leaving no tensor behind', async (fixture) => {
    const before = tf.memory().numTensors;
    expect(await hf.checkpointDiff(fixture)).toBeLessThan(TOL);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('saves and reloads with model.save / tf.loadLayersModel; the reloaded model takes both adapter namings', async () => {
    for (const [fixture, adapters] of [
      ['vit-cls', ['adapter', 'adapter-v4']],
      ['vit', ['adapter', 'adapter-v4']],
      ['resnet-cls', ['adapter']],
    ] as const) {
      const model = await hf.load(hfFixture(fixture));
      const artifacts = await saveToMemory(model);
      model.dispose();
      const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
      expect(reloaded.inputNames).toEqual(['pixel_values']);
      expect(await diffToReference(reloaded, fixture)).toBeLessThan(TOL);
      for (const dir of adapters)
        expect(await hf.adapterDiff(reloaded, hfFixture(fixture, dir), fixture)).toBeLessThan(TOL);
      reloaded.dispose();
    }
  });

  it('a LoraModel of it loads further adapters of either naming (lora.loadAdapter), and merged models keep the aliases', async () => {
    const model = await hf.load(hfFixture('vit-cls'));
    const lm = applyLora(model, { r: 2, targetModules: ['query'] });
    for (const dir of ['adapter', 'adapter-v4']) {
      await lm.loadAdapter(hfFixture('vit-cls', dir), dir.replace('-', '_'));
      lm.setAdapter(dir.replace('-', '_'));
      expect(await diffToReference(lm.model, 'vit-cls', 'logits_lora')).toBeLessThan(TOL);
    }
    const plain = lm.mergeAndUnload();
    expect(plain.getUserDefinedMetadata()).toEqual(model.getUserDefinedMetadata());
    lm.dispose();
    plain.dispose();
    model.dispose();
  });

  it('builds ViTForImageClassification from a ViTModel checkpoint with a new head', async () => {
    const model = await hf.load(hfFixture('vit'), { architecture: 'ViTForImageClassification', numLabels: 5 });
    expect(model.name).toBe('ViTForImageClassification');
    expect(model.outputs[0]!.shape).toEqual([null, 5]);
    expect(model.getUserDefinedMetadata()).toMatchObject({
      huggingFace: { architecture: 'ViTForImageClassification', newlyInitialized: ['classifier'] },
    });
    expect(await hf.trunkDiff(model, 'vit', 'vit', 'encoder.layer.1.output.dense')).toBe(0);
    model.dispose();
  });

  it('buildHfVisionModel gives a random-weight model of a config.json', () => {
    const model = buildHfVisionModel({
      model_type: 'vit',
      image_size: 32,
      patch_size: 16,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 24,
    });
    expect(model.name).toBe('ViTModel');
    expect(model.getLayer('encoder.layer.0.intermediate.dense').getWeights()[0]!.shape).toEqual([16, 24]);
    expect(model.getLayer('embeddings').getWeights()[1]!.shape).toEqual([1, 5, 16]);
    model.dispose();
  });

  it('refuses other architectures naming the supported ones, and configs that do not fit the weights', async () => {
    const folder = (edit: Record<string, unknown>) => editedConfigFolder(hfFixture('vit-cls'), edit);
    const before = tf.memory().numTensors;
    const swin = await loadPretrained(await folder({ architectures: ['SwinForImageClassification'] })).catch(
      (e: unknown) => e,
    );
    expect(ModelFormatError.isInstance(swin)).toBe(true);
    expect((swin as Error).message).toMatch(
      /hf-vision: config.json names 'SwinForImageClassification', not one of ViTModel, ViTForImageClassification, ResNetForImageClassification/,
    );
    await expect(hf.load(hfFixture('vit-cls'), { format: 'hf-vision', architecture: 'DeiTModel' })).rejects.toThrow(
      /'DeiTModel' is not supported .*; supported: ViTModel, ViTForImageClassification, ResNetForImageClassification/,
    );
    const wide = await loadPretrained(await folder({ hidden_size: 64 })).catch((e: unknown) => e);
    expect(ModelFormatError.isInstance(wide)).toBe(true);
    expect((wide as Error).message).toMatch(
      /'vit.embeddings.patch_embeddings.projection.weight' is \[32, 3, 8, 8\] but layer 'vit.embeddings.patch_embeddings.projection' needs \[64, 3, 8, 8\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describeHubLoading(hf, 'vit-cls', { adapter: 'a transformers 5 PEFT adapter', tolerance: TOL });
