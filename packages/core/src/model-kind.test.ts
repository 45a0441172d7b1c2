// Model kinds (how applyLora handles each kind of model) and the shapes training and saving accept
// (TrainableModel, PeftExportable). Reference: the same calls on a LoraModel's tf.LayersModel.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  applyLora,
  listModelKinds,
  loadPeftAdapter,
  loraConfig,
  LoraConfigError,
  LoraModel,
  registerModelKind,
  savePeftAdapter,
  toPeftJson,
  train,
  type ModelKind,
  type PeftExportable,
} from './index.js';

function mlp(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        name: 'fc1',
        units: 6,
        activation: 'relu',
        inputShape: [4],
        kernelInitializer: 'glorotUniform',
      }),
      tfl.layers.dense({ name: 'head', units: 2 }),
    ],
  });
}

async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('model kinds', () => {
  it("core registers 'layers' (tf.LayersModel), tried after every plugin's kind", () => {
    const kinds = listModelKinds();
    expect(kinds[kinds.length - 1]!.name).toBe('layers');
  });

  it('applyLora on a model no kind handles names the kinds, and points GraphModels to @tfjs-lora/graph', () => {
    expect(() => applyLora({} as never, { r: 2, targetModules: ['x'] })).toThrow(LoraConfigError);
    expect(() => applyLora({} as never, { r: 2, targetModules: ['x'] })).toThrow(/expects one of: layers/);
    const graphLike = { executeAsync: () => undefined, execute: () => undefined };
    expect(() => applyLora(graphLike as never, { r: 2, targetModules: ['x'] })).toThrow(
      /add the @tfjs-lora\/graph package/,
    );
  });

  it('dispatches to a registered kind with the normalised config', () => {
    const seen: unknown[] = [];
    interface Boxed {
      boxed: tfl.LayersModel;
    }
    const boxedKind: ModelKind<Boxed, LoraModel> = {
      name: 'boxed-test',
      matches: (m) => typeof m === 'object' && m !== null && 'boxed' in m,
      applyLora(model, config, options) {
        seen.push(config);
        return applyLora(model.boxed, config, options) as LoraModel;
      },
      applyPeftAdapter: (model, adapter, options) => applyLora(model.boxed, adapter, options),
    };
    registerModelKind(boxedKind);
    registerModelKind(boxedKind);
    expect(listModelKinds().filter((k) => k === boxedKind)).toHaveLength(1);
    const base = mlp();
    const lm = applyLora({ boxed: base } as never, { r: 2, targetModules: ['fc1'] }) as unknown as LoraModel;
    expect(seen[0]).toEqual(loraConfig({ r: 2, targetModules: ['fc1'] }));
    expect(lm.loraLayers().map((l) => l.path)).toEqual(['fc1']);
    lm.dispose();
    base.dispose();
  });
});

describe('LoraModel as a TrainableModel', () => {
  it('trainableVariables are the trainable weights; apply and predict run the wrapped model', async () => {
    const base = mlp();
    const lm = applyLora(base, { r: 2, targetModules: ['fc1'], initLoraWeights: 'gaussian' }, { seed: 3 });
    expect(lm.trainableVariables.map((v) => v.name)).toEqual(
      lm.model.trainableWeights.map((w) => (w.read() as tf.Variable).name),
    );
    expect(lm.trainableVariables).toHaveLength(2);
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
    const outs = [lm.predict(x) as tf.Tensor, lm.model.predict(x) as tf.Tensor, lm.apply(x) as tf.Tensor];
    const d = tf.tidy(() =>
      tf.add(tf.max(tf.abs(tf.sub(outs[0]!, outs[1]!))), tf.max(tf.abs(tf.sub(outs[0]!, outs[2]!)))),
    );
    expect((await d.data())[0]).toBe(0);
    tf.dispose([x, d, ...outs]);
    lm.dispose();
    base.dispose();
  });

  it('train(lora) makes the same updates as train(lora.model)', async () => {
    const base = mlp();
    const x = tf.randomNormal([16, 4], 0, 1, 'float32', 2);
    const y = tf.randomNormal([16, 2], 0, 1, 'float32', 4);
    const a = applyLora(base, { r: 2, targetModules: ['fc1'] }, { seed: 5 });
    const b = applyLora(base, { r: 2, targetModules: ['fc1'] }, { seed: 5 });
    const optA = tf.train.adam(0.05);
    const optB = tf.train.adam(0.05);
    const hA = await train(a, { x, y }, { optimizer: optA, loss: 'meanSquaredError', epochs: 2, batchSize: 4 });
    const hB = await train(b.model, { x, y }, { optimizer: optB, loss: 'meanSquaredError', epochs: 2, batchSize: 4 });
    expect(hA.loss).toEqual(hB.loss);
    expect(hA.loss[1]!).toBeLessThan(hA.loss[0]!);
    const va = a.trainableVariables;
    const vb = b.trainableVariables;
    for (let i = 0; i < va.length; i++) expect(await values(va[i]!)).toEqual(await values(vb[i]!));
    tf.dispose([x, y]);
    optA.dispose();
    optB.dispose();
    a.dispose();
    b.dispose();
    base.dispose();
  });
});

describe('savePeftAdapter with a PeftExportable', () => {
  it("saves what toPeftTensors gives, as PEFT's files, and disposes the tensors", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exportable-'));
    const config = loraConfig({ r: 2, loraAlpha: 4, targetModules: ['conv'] });
    const A = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const B = tf.tensor2d([
      [0.5, -1],
      [2, 0.25],
    ]);
    const made: tf.Tensor[] = [];
    const exportable: PeftExportable = {
      adapterNames: ['default'],
      activeAdapters: ['default'],
      toPeftTensors(name) {
        expect(name).toBe('default');
        const tensors = {
          'base_model.model.conv.lora_A.weight': tf.clone(A),
          'base_model.model.conv.lora_B.weight': tf.clone(B),
        };
        made.push(...Object.values(tensors));
        return { config: toPeftJson(config), tensors };
      },
    };
    try {
      await expect(savePeftAdapter(exportable, dir, { adapterName: 'other' })).rejects.toThrow(
        /No adapter 'other'; adapters: default/,
      );
      const before = tf.memory().numTensors;
      const result = await savePeftAdapter(exportable, dir);
      expect(tf.memory().numTensors).toBe(before);
      expect(made.every((t) => t.isDisposed)).toBe(true);
      expect(result.saved[0]!.adapterName).toBe('default');
      const loaded = await loadPeftAdapter(dir);
      expect(loaded.config.r).toBe(2);
      expect(await values(loaded.tensors['base_model.model.conv.lora_A.weight']!)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await values(loaded.tensors['base_model.model.conv.lora_B.weight']!)).toEqual([0.5, -1, 2, 0.25]);
      loaded.dispose();
    } finally {
      tf.dispose([A, B]);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
