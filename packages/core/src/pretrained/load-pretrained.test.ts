import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ModelFormatError,
  listModelFormats,
  loadPretrained,
  registerModelFormat,
  type ModelFormat,
  type PretrainedModel,
} from '../index.js';
import { hubUrl, openModelFiles, readHfCheckpoint, readModelJsonArtifacts } from '../entries/pretrained.js';
import { modelFiles as savedModelFiles, saveModelFiles } from '../entries/node.js';
import { writeSafetensors } from '../entries/safetensors.js';

function smallModel(): tfl.LayersModel {
  const m = tfl.sequential({ name: 'small' });
  m.add(tfl.layers.dense({ units: 5, inputShape: [4], activation: 'relu', name: 'hidden' }));
  m.add(tfl.layers.dense({ units: 3, name: 'head' }));
  return m;
}

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0]!;
  d.dispose();
  return v;
}

let dir: string;
let base: tfl.LayersModel;
let x: tf.Tensor;
let expected: tf.Tensor;
let server: Server;
let url: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'pretrained-'));
  base = smallModel();
  x = tf.randomNormal([2, 4], 0, 1, 'float32', 7);
  expected = base.predict(x) as tf.Tensor;
  await saveModelFiles(base, join(dir, 'layers'));
  server = createServer((req, res) => {
    void (async () => {
      try {
        res.end(await readFile(join(dir, decodeURIComponent(req.url!.split('?')[0]!))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  tf.dispose([x, expected]);
  base.dispose();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

async function expectSameOutputs(model: PretrainedModel): Promise<void> {
  const m = model as tfl.LayersModel;
  const y = m.predict(x) as tf.Tensor;
  expect(await maxDiff(y, expected)).toBe(0);
  y.dispose();
  m.dispose();
}

describe('loadPretrained: tfjs LayersModels (core format)', () => {
  it('reads a folder, a model.json path, a file:// URL and an http URL to the same model', async () => {
    await expectSameOutputs(await loadPretrained(join(dir, 'layers')));
    await expectSameOutputs(await loadPretrained(join(dir, 'layers', 'model.json')));
    await expectSameOutputs(await loadPretrained(`file://${join(dir, 'layers')}`));
    await expectSameOutputs(await loadPretrained(`${url}/layers/model.json`));
    await expectSameOutputs(await loadPretrained(`${url}/layers/`));
  });

  it('reads browser-style File objects and a tf.io IOHandler', async () => {
    const { json, weights } = await savedModelFiles(base);
    const files = [new File([json], 'model.json'), new File([weights.slice().buffer as ArrayBuffer], 'weights.bin')];
    await expectSameOutputs(await loadPretrained(files));
    const artifacts = await readModelJsonArtifacts(await openModelFiles(files));
    await expectSameOutputs(await loadPretrained(tf.io.fromMemory(artifacts)));
  });

  it('leaks no tensors: loading and disposing leaves the count as it was', async () => {
    const before = tf.memory().numTensors;
    const m = (await loadPretrained(join(dir, 'layers'))) as tfl.LayersModel;
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names a missing weight shard', async () => {
    const broken = join(dir, 'broken');
    await mkdir(broken, { recursive: true });
    const { json } = await savedModelFiles(base);
    await writeFile(join(broken, 'model.json'), json);
    await expect(loadPretrained(broken)).rejects.toThrow(/weight file 'weights\.bin', which is missing/);
  });
});

describe('loadPretrained: choosing a format', () => {
  it('lists every format tried and why it did not match', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    await writeFile(join(empty, 'notes.txt'), 'hello');
    const err = await loadPretrained(empty).catch((e: unknown) => e);
    expect(ModelFormatError.isInstance(err)).toBe(true);
    const e = err as ModelFormatError;
    expect(e.attempts.map((a) => a.format)).toEqual(listModelFormats().map((f) => f.name));
    expect(e.attempts.find((a) => a.format === 'tfjs-layers')?.reason).toBe('no model.json');
    expect(e.message).toMatch(/@tfjs-lora\/graph/);
  });

  it('a graph-model model.json is not taken for a LayersModel', async () => {
    const g = join(dir, 'graph');
    await mkdir(g, { recursive: true });
    await writeFile(
      join(g, 'model.json'),
      JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }),
    );
    const err = (await loadPretrained(g).catch((e: unknown) => e)) as ModelFormatError;
    expect(err.attempts.find((a) => a.format === 'tfjs-layers')?.reason).toBe('model.json is a graph-model');
  });

  it('tries registered formats first, and options.format forces one', async () => {
    const seen: string[] = [];
    const custom: ModelFormat = {
      name: 'test-custom',
      async match(files) {
        seen.push(files.description);
        return (await files.read('custom.bin')) ? true : 'no custom.bin';
      },
      async load(files) {
        const bytes = (await files.read('custom.bin'))!;
        const m = smallModel();
        const w = [tf.fill([5, 3], bytes[0]!), tf.zeros([3])];
        m.getLayer('head').setWeights(w);
        tf.dispose(w);
        return m;
      },
    };
    registerModelFormat(custom);
    expect(listModelFormats()[0]).toBe(custom);
    const cdir = join(dir, 'custom');
    await mkdir(cdir, { recursive: true });
    await writeFile(join(cdir, 'custom.bin'), new Uint8Array([2]));
    const m = (await loadPretrained(cdir)) as tfl.LayersModel;
    expect(Array.from(await m.getLayer('head').getWeights()[0]!.data())[0]).toBe(2);
    m.dispose();
    await expect(loadPretrained(cdir, { format: 'nope' })).rejects.toThrow(
      /No model format 'nope'; registered: test-custom/,
    );
    await expectSameOutputs(await loadPretrained(join(dir, 'layers'), { format: 'tfjs-layers' }));
  });

  it('refuses sources it cannot read, saying what it expected', async () => {
    await expect(loadPretrained(join(dir, 'nowhere'))).rejects.toThrow(/the path does not exist/);
    await expect(loadPretrained('indexeddb://x')).rejects.toThrow(/Unsupported scheme/);
    await expect(loadPretrained(42 as never)).rejects.toThrow(/expected a path, a URL/);
  });
});

describe('hubUrl', () => {
  it("maps hf:// ids to the Hub's resolve URLs", () => {
    expect(hubUrl('hf://openai-community/gpt2')).toBe('https://huggingface.co/openai-community/gpt2/resolve/main/');
    expect(hubUrl('hf://org/name@v1.0', { hubEndpoint: 'http://localhost:9/' })).toBe(
      'http://localhost:9/org/name/resolve/v1.0/',
    );
    expect(hubUrl('hf://org/name@refs/pr/1')).toBe('https://huggingface.co/org/name/resolve/refs%2Fpr%2F1/');
    expect(hubUrl('hf://gpt2', { revision: 'abc' })).toBe('https://huggingface.co/gpt2/resolve/abc/');
    expect(() => hubUrl('hf://a/b/c')).toThrow(/not a Hub id/);
    expect(() => hubUrl('hf://org/name@')).toThrow(/not a Hub id/);
  });

  it('loads hf://org/name@rev from a server with the Hub layout', async () => {
    const hub = join(dir, 'org', 'tiny', 'resolve', 'r1');
    await mkdir(hub, { recursive: true });
    const { json, weights } = await savedModelFiles(base);
    await writeFile(join(hub, 'model.json'), json);
    await writeFile(join(hub, 'weights.bin'), weights);
    await expectSameOutputs(await loadPretrained('hf://org/tiny@r1', { hubEndpoint: url }));
  });
});

describe('readHfCheckpoint', () => {
  it('reads F32, F16 and BF16 weights (widened to float32) from one file and from shards', async () => {
    const ck = join(dir, 'hf');
    await mkdir(ck, { recursive: true });
    const config = { architectures: ['TinyModel'], model_type: 'tiny', hidden_size: 2 };
    await writeFile(join(ck, 'config.json'), JSON.stringify(config));
    const a = tf.tensor2d([
      [0.5, -1.25],
      [3, 0.1],
    ]);
    const b = tf.tensor1d([1.5, -2]);
    await writeFile(join(ck, 'model.safetensors'), writeSafetensors({ 'a.weight': a }, {}, { floatDtype: 'F16' }));
    const one = await readHfCheckpoint(await openModelFiles(ck));
    expect(one.config).toEqual(config);
    // 0.1 is not a float16: the nearest float16 is 0.0999755859375.
    expect(Array.from(await one.tensors.get('a.weight')!.data())).toEqual([0.5, -1.25, 3, 0.0999755859375]);
    one.dispose();

    const sharded = join(dir, 'hf-sharded');
    await mkdir(sharded, { recursive: true });
    await writeFile(join(sharded, 'config.json'), JSON.stringify(config));
    await writeFile(join(sharded, 'model-00001-of-00002.safetensors'), writeSafetensors({ 'a.weight': a }));
    await writeFile(
      join(sharded, 'model-00002-of-00002.safetensors'),
      writeSafetensors({ 'b.bias': b }, {}, { floatDtype: 'BF16' }),
    );
    await writeFile(
      join(sharded, 'model.safetensors.index.json'),
      JSON.stringify({
        metadata: {},
        weight_map: { 'a.weight': 'model-00001-of-00002.safetensors', 'b.bias': 'model-00002-of-00002.safetensors' },
      }),
    );
    const before = tf.memory().numTensors;
    const two = await readHfCheckpoint(await openModelFiles(sharded));
    expect([...two.tensors.keys()].sort()).toEqual(['a.weight', 'b.bias']);
    expect(await maxDiff(two.tensors.get('a.weight')!, a)).toBe(0);
    expect(Array.from(await two.tensors.get('b.bias')!.data())).toEqual([1.5, -2]);
    two.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it('names a missing shard and refuses PyTorch pickles', async () => {
    const ck = join(dir, 'hf-pickle');
    await mkdir(ck, { recursive: true });
    await writeFile(join(ck, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
    await writeFile(join(ck, 'pytorch_model.bin'), 'not read');
    await expect(readHfCheckpoint(await openModelFiles(ck))).rejects.toThrow(/safe_serialization=True/);
  });
});
