// Adapters made here → PEFT files → loaded back: several named adapters (sub-folders), modules_to_save per
// adapter, DoRA, rsLoRA, bias 'all'; shape mismatches change nothing; strict: false skips.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { LoraConfigError, ShapeMismatchError } from '../errors/index.js';
import { applyLora } from '../apply-lora.js';
import type { LoraModel } from '../lora-model.js';
import { loadPeftAdapter } from './load.js';
import { encodePeftAdapter, encodePeftAdapterAsync, savePeftAdapter } from './save.js';
import { decodePeftAdapter } from './files.js';

function mlp(hidden = 12, name = 'mlp', weightsFrom?: tfl.LayersModel): tfl.LayersModel {
  const m = tfl.sequential({
    name,
    layers: [
      tfl.layers.dense({ name: 'fc1', units: hidden, activation: 'relu', inputShape: [6] }),
      tfl.layers.dense({ name: 'fc2', units: 8, activation: 'tanh' }),
      tfl.layers.dense({ name: 'head', units: 3 }),
    ],
  });
  if (weightsFrom) m.setWeights(weightsFrom.getWeights());
  return m;
}

/** Gives every trainable weight a deterministic non-trivial value (as if trained). */
function perturb(lm: LoraModel, seed: number): void {
  lm.model.trainableWeights.forEach((w, i) => {
    tf.tidy(() => {
      w.write(tf.randomNormal(w.shape as number[], 0, 0.3, 'float32', seed + i));
    });
  });
}

function predict(lm: LoraModel, x: tf.Tensor): tf.Tensor {
  return lm.model.predict(x) as tf.Tensor;
}

describe('PEFT round trip of adapters trained here', () => {
  let tmp: string;
  let base: tfl.LayersModel;
  let x: tf.Tensor;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    tmp = mkdtempSync(join(tmpdir(), 'tfjs-lora-rt-'));
    base = mlp();
    x = tf.randomNormal([5, 6], 0, 1, 'float32', 3);
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
    base.dispose();
    x.dispose();
  });

  it('saves every adapter PEFT-style (default at the root, others in sub-folders) and loads them back', async () => {
    const lm = applyLora(
      base,
      { r: 4, loraAlpha: 8, targetModules: ['fc1', 'fc2'], modulesToSave: ['head'] },
      { seed: 1 },
    );
    lm.addAdapter(
      'dora',
      { r: 2, loraAlpha: 4, useDora: true, useRslora: true, targetModules: ['fc2'], bias: 'lora_only' },
      { seed: 2 },
    );
    perturb(lm, 10);
    lm.setAdapter('dora');
    perturb(lm, 20);
    const want = { dora: predict(lm, x) };
    lm.setAdapter('default');
    const wantDefault = predict(lm, x);
    const dir = join(tmp, 'two');
    const result = await savePeftAdapter(lm, dir);
    expect(result.saved.map((s) => [s.adapterName, s.location])).toEqual([
      ['default', dir],
      ['dora', join(dir, 'dora')],
    ]);
    expect(readdirSync(dir).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'dora']);
    expect(readdirSync(join(dir, 'dora')).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);

    const fresh = mlp(12, 'fresh', base);
    const before = tf.memory().numTensors;
    const adapter = await loadPeftAdapter(dir);
    const loaded = applyLora(fresh, adapter);
    adapter.dispose();
    await loaded.loadAdapter(join(dir, 'dora'), 'dora');
    expect(loaded.adapterNames).toEqual(['default', 'dora']);
    tf.tidy(() => {
      expect(tf.tidy(() => maxAbsDiff(predict(loaded, x), wantDefault))).toBeLessThan(1e-6);
      loaded.setAdapter('dora');
      expect(maxAbsDiff(predict(loaded, x), want.dora)).toBeLessThan(1e-6);
    });
    // the dora adapter's file has its LoRA layer's bias (bias 'lora_only') and magnitudes, no head (modules_to_save is default's)
    const doraFiles = decodePeftAdapter(encodePeftAdapter(loaded, { adapterName: 'dora' }));
    expect(Object.keys(doraFiles.tensors).sort()).toEqual([
      'base_model.model.fc2.base_layer.bias',
      'base_model.model.fc2.lora_A.weight',
      'base_model.model.fc2.lora_B.weight',
      'base_model.model.fc2.lora_magnitude_vector',
    ]);
    doraFiles.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    fresh.dispose();
    lm.dispose();
    tf.dispose([want.dora, wantDefault]);
  });

  it("saves and loads biases with bias 'all' (base_layer.bias for LoRA layers)", async () => {
    const lm = applyLora(base, { r: 2, targetModules: ['fc2'], bias: 'all' }, { seed: 9 });
    perturb(lm, 60);
    const want = predict(lm, x);
    const files = encodePeftAdapter(lm);
    const adapter = decodePeftAdapter(files);
    expect(Object.keys(adapter.tensors).sort()).toEqual([
      'base_model.model.fc1.bias',
      'base_model.model.fc2.base_layer.bias',
      'base_model.model.fc2.lora_A.weight',
      'base_model.model.fc2.lora_B.weight',
      'base_model.model.head.bias',
    ]);
    const fresh = mlp(12, 'fresh', base);
    const loaded = applyLora(fresh, adapter);
    expect(tf.tidy(() => maxAbsDiff(predict(loaded, x), want))).toBeLessThan(1e-6);
    tf.dispose(want);
    [loaded, lm].forEach((m) => m.dispose());
    adapter.dispose();
    fresh.dispose();
  });

  it('encodePeftAdapterAsync writes the bytes of encodePeftAdapter; a loaded adapter owns its data (the file buffer can be reused)', async () => {
    const lm = applyLora(
      base,
      { r: 2, targetModules: ['fc1', 'fc2'], modulesToSave: ['head'], bias: 'all' },
      { seed: 5 },
    );
    perturb(lm, 70);
    const want = predict(lm, x);
    const before = tf.memory().numTensors;
    const files = await encodePeftAdapterAsync(lm);
    expect(tf.memory().numTensors).toBe(before);
    const sync = encodePeftAdapter(lm);
    expect(files.weights).toEqual(sync.weights);
    expect(files.config).toEqual(sync.config);
    const bytes = files.weights as Uint8Array;
    const adapter = decodePeftAdapter(files);
    const fresh = mlp(12, 'fresh', base);
    const loaded = applyLora(fresh, adapter);
    adapter.dispose();
    bytes.fill(0); // the caller reuses the buffer: the loaded weights must not change
    expect(tf.tidy(() => maxAbsDiff(predict(loaded, x), want))).toBeLessThan(1e-6);
    tf.dispose(want);
    [loaded, lm].forEach((m) => m.dispose());
    fresh.dispose();
  });

  it('keeps modules_to_save per adapter when a second adapter saves the same layer', async () => {
    const lm = applyLora(base, { r: 2, targetModules: ['fc1'], modulesToSave: ['head'] }, { seed: 4 });
    perturb(lm, 30);
    const dir = join(tmp, 'a');
    await savePeftAdapter(lm, dir);
    lm.addAdapter('b', { r: 2, targetModules: ['fc2'], modulesToSave: ['head'] }, { seed: 5 });
    lm.setAdapter('b');
    perturb(lm, 40);
    await savePeftAdapter(lm, join(tmp, 'b'), { adapterName: 'b' });
    const wantB = predict(lm, x);
    lm.setAdapter('default');
    const wantA = predict(lm, x);

    const fresh = mlp(12, 'fresh', base);
    const adapterA = await loadPeftAdapter(dir);
    const loaded = applyLora(fresh, adapterA);
    adapterA.dispose();
    await loaded.loadAdapter(join(tmp, 'b', 'b'), 'b');
    expect(tf.tidy(() => maxAbsDiff(predict(loaded, x), wantA))).toBeLessThan(1e-6);
    loaded.setAdapter('b');
    expect(tf.tidy(() => maxAbsDiff(predict(loaded, x), wantB))).toBeLessThan(1e-6);
    loaded.disableAdapters();
    const off = predict(loaded, x);
    const plain = fresh.predict(x) as tf.Tensor;
    expect(maxAbsDiff(off, plain)).toBe(0);
    tf.dispose([wantA, wantB, off, plain]);
    loaded.dispose();
    fresh.dispose();
    lm.dispose();
  });

  it('a shape mismatch changes nothing and names the layer and both shapes', async () => {
    const lm = applyLora(base, { r: 4, targetModules: ['fc1', 'fc2'] }, { seed: 6 });
    const dir = join(tmp, 'mismatch');
    await savePeftAdapter(lm, dir);
    const wider = mlp(16, 'wider');
    const adapter = await loadPeftAdapter(dir);
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      applyLora(wider, adapter);
    } catch (e) {
      err = e;
    }
    expect(ShapeMismatchError.isInstance(err)).toBe(true);
    expect((err as ShapeMismatchError).layer).toBe('fc1');
    expect((err as Error).message).toMatch(
      /Layer 'fc1' \(Dense, kernel \[6, 16\]\) needs lora_B of shape \[16, 4\].*is \[12, 4\]/,
    );
    expect(tf.memory().numTensors).toBe(before);

    // loading into an existing LoraModel: same error, model untouched
    const other = applyLora(wider, { r: 2, targetModules: ['head'] }, { seed: 7 });
    const modelBefore = other.model;
    const y0 = predict(other, x);
    await expect(other.loadAdapter(dir, 'second')).rejects.toThrow(/Layer 'fc1'.*\[16, 4\].*\[12, 4\]/);
    expect(other.adapterNames).toEqual(['default']);
    expect(other.model).toBe(modelBefore);
    const y1 = predict(other, x);
    expect(maxAbsDiff(y0, y1)).toBe(0);
    tf.dispose([y0, y1]);
    other.dispose();
    adapter.dispose();
    wider.dispose();
    lm.dispose();
  });

  it('maps modules to renamed layers, lists nearest names, and skips with strict: false', async () => {
    const lm = applyLora(base, { r: 2, targetModules: ['fc1', 'fc2'] }, { seed: 8 });
    perturb(lm, 50);
    const want = predict(lm, x);
    const dir = join(tmp, 'map');
    await savePeftAdapter(lm, dir);
    const renamed = tfl.sequential({
      layers: [
        tfl.layers.dense({ name: 'encoder_fc1', units: 12, activation: 'relu', inputShape: [6] }),
        tfl.layers.dense({ name: 'decoder_fc2', units: 8, activation: 'tanh' }),
        tfl.layers.dense({ name: 'head', units: 3 }),
      ],
    });
    renamed.setWeights(base.getWeights());
    const adapter = await loadPeftAdapter(dir);
    expect(() => applyLora(renamed, adapter)).toThrow(
      /2 adapter module\(s\) match no layer.*'fc1' \(nearest: encoder_fc1.*moduleMap/,
    );
    try {
      applyLora(renamed, adapter);
    } catch (e) {
      expect(LoraConfigError.isInstance(e)).toBe(true);
    }
    const mapped = applyLora(renamed, adapter, { moduleMap: { fc1: 'encoder_fc1', fc2: 'decoder_fc2' } });
    expect(tf.tidy(() => maxAbsDiff(predict(mapped, x), want))).toBeLessThan(1e-6);
    // saving writes the PEFT paths back, not the tfjs names
    const again = decodePeftAdapter(encodePeftAdapter(mapped));
    expect(again.modules.map((m) => m.path).sort()).toEqual(['fc1', 'fc2']);
    again.dispose();
    const partial = applyLora(renamed, adapter, {
      moduleMap: (p) => (p === 'fc1' ? 'encoder_fc1' : undefined),
      strict: false,
    });
    expect(partial.peftSource('default')!.skipped).toEqual(['fc2']);
    expect(partial.loraLayers().map((l) => l.path)).toEqual(['encoder_fc1']);
    tf.dispose(want);
    [mapped, partial, lm].forEach((m) => m.dispose());
    adapter.dispose();
    renamed.dispose();
    expect(existsSync(join(dir, 'adapter_config.json'))).toBe(true);
  });
});

describe('loaded weights own their data', () => {
  it('reusing the bytes an adapter was loaded from does not change the model', async () => {
    await tf.setBackend('cpu');
    const base = tfl.sequential({
      layers: [
        tfl.layers.dense({ name: 'fc', units: 4, inputShape: [3] }),
        tfl.layers.dense({ name: 'head', units: 2 }),
      ],
    });
    const lm = applyLora(
      base,
      { r: 2, targetModules: ['fc'], useDora: true, modulesToSave: ['head'], initLoraWeights: 'gaussian' },
      { seed: 3 },
    );
    const files = encodePeftAdapter(lm);
    const adapter = decodePeftAdapter(files);
    const loaded = applyLora(base, adapter);
    adapter.dispose();
    const x = tf.ones([1, 3]);
    const y = () => tf.tidy(() => (loaded.model.predict(x) as tf.Tensor).arraySync());
    const before = y();
    (files.weights as Uint8Array).fill(0);
    expect(y()).toEqual(before);
    tf.dispose(x);
    [loaded, lm].forEach((m) => m.dispose());
    base.dispose();
  });
});
