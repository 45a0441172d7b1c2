// The 'keras' format behind core's loadPretrained (every kind of source), and a LoRA on a loaded model:
// it trains, merges, and the merged model saves with tfjs's model.save and reads back the same.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, createTrainStep, listModelFormats, loadPretrained, ModelFormatError } from '@tfjs-lora/core';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kerasFormat, registerKerasFormat } from './index.js';
import { FIXTURES, kerasBytes, kerasIo, maxAbsDiff } from '../test-support/fixtures.js';

async function predictsLikeKeras(model: tfl.LayersModel, name: string): Promise<number> {
  const { inputs, outputs } = kerasIo(name);
  const y = model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
  const first = Array.isArray(y) ? y[0]! : y;
  const d = await maxAbsDiff(first, outputs[0]!);
  tf.dispose([...inputs, ...outputs, ...(Array.isArray(y) ? y : [y])]);
  return d;
}

describe("loadPretrained with @tfjs-lora/keras's format", () => {
  let dir: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'tfjs-lora-keras-'));
    copyFileSync(join(FIXTURES, 'separable.keras'), join(dir, 'separable.keras'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is registered on import, once (registerKerasFormat again is a no-op)', () => {
    registerKerasFormat();
    expect(listModelFormats().filter((f) => f.name === 'keras')).toEqual([kerasFormat]);
  });

  const sources: [string, () => unknown, Record<string, unknown>?][] = [
    ['a path to the .keras file', () => join(FIXTURES, 'separable.keras')],
    ['a folder holding one .keras file', () => dir],
    ['a file:// URL', () => new URL(`file://${join(FIXTURES, 'separable.keras')}`)],
    ['bytes', () => kerasBytes('separable')],
    ['a browser File', () => new File([kerasBytes('separable') as BlobPart], 'separable.keras')],
    [
      'an http URL (through options.fetch)',
      () => 'https://models.example/separable.keras',
      {
        fetch: async (url: string) =>
          url.endsWith('/separable.keras')
            ? new Response(kerasBytes('separable') as BodyInit)
            : new Response('', { status: 404 }),
      },
    ],
  ];
  for (const [label, source, options] of sources) {
    it(`reads ${label}`, async () => {
      const model = (await loadPretrained(source() as never, options ?? {})) as tfl.LayersModel;
      expect(await predictsLikeKeras(model, 'separable')).toBeLessThan(1e-4);
      model.dispose();
    });
  }

  it('fetches a .keras URL once (match and load share the bytes)', async () => {
    let fetched = 0;
    const fetch = async (input: string | URL | Request) => {
      if (!String(input).endsWith('/separable.keras')) return new Response('', { status: 404 });
      fetched++;
      return new Response(kerasBytes('separable') as BodyInit);
    };
    const model = (await loadPretrained('https://models.example/separable.keras', { fetch })) as tfl.LayersModel;
    expect(fetched).toBe(1);
    model.dispose();
  });

  it('a folder with several .keras files: the error lists each format and asks to name one', async () => {
    const e = await loadPretrained(FIXTURES).catch((err: unknown) => err as Error);
    expect(ModelFormatError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(/keras: several \.keras\/\.h5 files .*name one/);
    expect((e as Error).message).toMatch(/tfjs-layers: no model\.json/);
  });
});

describe('LoRA on a loaded Keras model', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('trains only the LoRA factors, merges, and the merged model round-trips through model.save', async () => {
    const before = tf.memory().numTensors;
    const base = await loadKerasModel('layer_norm');
    const lora = applyLora(base, { r: 2, loraAlpha: 4, targetModules: ['up', 'down', 'head'] }, { seed: 3 });
    const frozen = base.weights.map((w) => w.read().clone());
    const { inputs, outputs } = kerasIo('layer_norm');
    const target = tf.tensor2d([1, 0, 0, 0, 0, 1], [2, 3]);
    const optimizer = tf.train.adam(0.05);
    const step = createTrainStep(lora, { optimizer, loss: 'categoricalCrossentropy' });
    const losses: number[] = [];
    for (let i = 0; i < 15; i++) losses.push(await step(inputs[0]!, target));
    expect(losses[14]!).toBeLessThan(losses[0]! * 0.7);
    expect(lora.model.trainableWeights.every((w) => /lora_[AB]/.test(w.originalName))).toBe(true);
    for (const [i, w] of base.weights.entries()) expect(await maxAbsDiff(w.read(), frozen[i]!), w.originalName).toBe(0);

    const merged = lora.mergeAndUnload();
    const y0 = merged.predict(inputs[0]!) as tf.Tensor;
    let saved: tf.io.ModelArtifacts | undefined;
    await merged.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const y1 = reloaded.predict(inputs[0]!) as tf.Tensor;
    expect(await maxAbsDiff(y0, y1)).toBe(0);
    tf.dispose([...frozen, ...inputs, ...outputs, target, y0, y1]);
    optimizer.dispose();
    reloaded.dispose();
    merged.dispose();
    lora.dispose();
    base.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("nested models: targets by dotted path, and with B = 0 the outputs are still Keras's", async () => {
    const before = tf.memory().numTensors;
    const base = await loadKerasModel('residual');
    const lora = applyLora(base, { r: 2, targetModules: ['proj', 'inner.inner_dense', 'tower.dense'] });
    expect(
      lora
        .loraLayers()
        .map((l) => l.path)
        .sort(),
    ).toEqual(['inner.inner_dense', 'proj', 'tower.dense']);
    expect(await predictsLikeKeras(lora.model, 'residual')).toBeLessThan(1e-4);
    lora.dispose();
    base.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an LSTM model: applyLora rebuilds it (Orthogonal initializer and all) and freezes the LSTM', async () => {
    const before = tf.memory().numTensors;
    const base = await loadKerasModel('recurrent');
    const lora = applyLora(base, { r: 2, targetModules: ['head'] });
    expect(lora.model.trainableWeights.map((w) => w.originalName).sort()).toEqual([
      'head/lora_A.default',
      'head/lora_B.default',
    ]);
    expect(await predictsLikeKeras(lora.model, 'recurrent')).toBeLessThan(1e-4);
    lora.dispose();
    base.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

async function loadKerasModel(name: string): Promise<tfl.LayersModel> {
  return (await loadPretrained(kerasBytes(name), { format: 'keras' })) as tfl.LayersModel;
}

describe('a loaded model survives getConfig round trips', () => {
  it("SeparableConv2D with depth_multiplier 2: model.save → loadLayersModel gives Keras's outputs; applyLora rebuilds it", async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const base = await loadKerasModel('separable');
    expect(base.getLayer('sep').getConfig()['depthMultiplier']).toBe(2);
    let saved: tf.io.ModelArtifacts | undefined;
    await base.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    expect(await predictsLikeKeras(reloaded, 'separable')).toBeLessThan(1e-4);
    const lora = applyLora(base, { r: 2, targetModules: ['head'] });
    expect(await predictsLikeKeras(lora.model, 'separable')).toBeLessThan(1e-4);
    lora.dispose();
    reloaded.dispose();
    base.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
