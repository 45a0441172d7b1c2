// A model folder (model.json + weights.bin) written and read back without tfjs-node: predictions equal the
// original model's on the cpu backend, metadata survives, sharded manifests load, bad folders say why.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoraError } from '../errors/index.js';
import { loadModelFiles, modelFiles, modelFromFiles, saveModelFiles } from './model-files.js';

function smallModel(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ name: 'fc', units: 5, inputShape: [4], activation: 'relu' }),
      tfl.layers.dense({ name: 'head', units: 3 }),
    ],
  });
}

/** Largest |a − b| of two models' predictions on the same input (tensors disposed). */
function predictionGap(a: tfl.LayersModel, b: tfl.LayersModel): number {
  return tf.tidy(() => {
    const x = tf.randomUniform([6, 4], -1, 1, 'float32', 3);
    const gap = tf.max(tf.abs(tf.sub(a.predict(x) as tf.Tensor, b.predict(x) as tf.Tensor)));
    return gap.dataSync()[0]!;
  });
}

describe('model folder', () => {
  let tmp: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    tmp = mkdtempSync(join(tmpdir(), 'model-files-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('saves and loads a folder (and a model.json path) with its metadata, same predictions', async () => {
    const model = smallModel();
    const dir = join(tmp, 'saved');
    await saveModelFiles(model, dir, { metadata: { steps: 3 }, convertedBy: 'test' });
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
    expect(json['format']).toBe('layers-model');
    expect(json['convertedBy']).toBe('test');
    const before = tf.memory().numTensors;
    for (const source of [dir, join(dir, 'model.json')]) {
      const loaded = await loadModelFiles(source);
      expect(loaded.metadata).toEqual({ steps: 3 });
      expect(predictionGap(model, loaded.model)).toBe(0);
      loaded.model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('loads weights split over several files, as the manifest names them', async () => {
    const model = smallModel();
    const { json, weights } = await modelFiles(model);
    const parsed = JSON.parse(json) as { weightsManifest: { paths: string[] }[] };
    parsed.weightsManifest[0]!.paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
    const dir = join(tmp, 'sharded');
    await saveModelFiles(model, dir);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(parsed));
    writeFileSync(join(dir, 'group1-shard1of2.bin'), weights.subarray(0, 40));
    writeFileSync(join(dir, 'group1-shard2of2.bin'), weights.subarray(40));
    const loaded = await loadModelFiles(dir);
    expect(predictionGap(model, loaded.model)).toBe(0);
    loaded.model.dispose();
    model.dispose();
  });

  it('round-trips in memory, and rejects what is not a layers-model', async () => {
    const model = smallModel();
    const { json, weights } = await modelFiles(model, { metadata: { a: 1 } });
    const back = await modelFromFiles(json, weights);
    expect(back.metadata).toEqual({ a: 1 });
    expect(predictionGap(model, back.model)).toBe(0);
    back.model.dispose();
    model.dispose();
    await expect(modelFromFiles('{"format":"graph-model"}', weights)).rejects.toThrow(/layers-model/);
  });

  it('says what is wrong with a missing or broken folder', async () => {
    await expect(loadModelFiles(join(tmp, 'absent'))).rejects.toThrow(LoraError);
    await expect(loadModelFiles(join(tmp, 'absent'))).rejects.toThrow(/Cannot read the model .*ENOENT/);
    const broken = join(tmp, 'broken.json');
    writeFileSync(broken, '{not json');
    await expect(loadModelFiles(broken)).rejects.toThrow(/is not JSON/);
    writeFileSync(broken, '{"modelTopology": {}}');
    await expect(loadModelFiles(broken)).rejects.toThrow(/expected modelTopology and weightsManifest/);
  });
});
