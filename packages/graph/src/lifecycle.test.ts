// The LoraGraphModel life cycle through core's API: loadPretrained reads a graph-model folder, core's
// train and createTrainStep train it, savePeftAdapter / loadPeftAdapter round-trip the adapter,
// adapters are added, switched, deleted and disabled, unsupported settings and async graphs are refused.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import {
  AdapterStateError,
  LoraConfigError,
  applyLora,
  createTrainStep,
  loadPeftAdapter,
  loadPretrained,
  savePeftAdapter,
  train,
} from '@tfjs-lora/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { constant, graphArtifacts, matMul, node, placeholder } from '@tfjs-lora/test-support/graph-json';
import { CONV_MODULES, convGraph, convWeights, type ConvWeights } from '../test-support/conv-graph.js';
import { UnsupportedGraphError, type LoraGraphModel } from './index.js';

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0]!;
  d.dispose();
  return v;
}

let dir: string;
let w: ConvWeights;
let graph: GraphModel;
let x: tf.Tensor;
let y: tf.Tensor;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'graph-'));
  w = convWeights();
  graph = await convGraph(w);
  x = tf.randomNormal([8, 8, 8, 3], 0, 1, 'float32', 2);
  y = tf.oneHot(tf.tensor1d([0, 1, 1, 0, 1, 0, 0, 1], 'int32'), 2);
});

afterAll(async () => {
  graph.dispose();
  tf.dispose([x, y, ...Object.values(w)]);
  await rm(dir, { recursive: true, force: true });
});

describe('loadPretrained', () => {
  it('reads a graph-model folder; targetModules take node names ("/") or module paths (".")', async () => {
    const k = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const artifacts = await graphArtifacts(
      [placeholder('x', [-1, 2]), constant('k'), matMul('block/mm', 'x', 'k'), node('out', 'Identity', ['block/mm'])],
      { k },
    );
    k.dispose();
    const json = {
      format: 'graph-model',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await writeFile(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
    const m = (await loadPretrained(dir)) as GraphModel;
    const input = tf.tensor2d([[1, 1]]);
    const out = m.predict(input) as tf.Tensor;
    expect(Array.from(await out.data())).toEqual([4, 6]);
    for (const targetModules of [['block/mm'], ['block.mm'], ['mm'], 'block/.*', /block\/mm/]) {
      const lg = applyLora(m, { r: 1, targetModules });
      expect(lg.adaptedModules()).toEqual(['block.mm']);
      lg.dispose();
    }
    tf.dispose([out, input]);
    m.dispose();
  });
});

describe('training through core', () => {
  it('train() and createTrainStep() lower the loss and change only the factors', async () => {
    const lg = applyLora(graph, { r: 2, targetModules: [...CONV_MODULES] }, { seed: 1 });
    const before = Object.fromEntries(Object.entries(graph.weights).map(([k, v]) => [k, v[0]!.clone()]));
    const opt = tf.train.adam(0.05);
    const history = await train(
      lg,
      { x, y },
      { optimizer: opt, loss: 'categoricalCrossentropy', epochs: 8, batchSize: 8 },
    );
    const losses = history.loss;
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    const step = createTrainStep(lg, { optimizer: opt, loss: 'categoricalCrossentropy' });
    const l1 = await step(x, y);
    expect(l1).toBeLessThan(losses[0]!);
    for (const [k, v] of Object.entries(graph.weights)) expect(await maxDiff(v[0]!, before[k]!)).toBe(0);
    tf.dispose(Object.values(before));
    opt.dispose();
    lg.dispose();
  });
});

describe('PEFT files', () => {
  it('savePeftAdapter then applyLora(graph, await loadPeftAdapter(dir)) gives the same outputs', async () => {
    const lg = applyLora(graph, { r: 3, loraAlpha: 6, targetModules: '.*', initLoraWeights: false }, { seed: 2 });
    await savePeftAdapter(lg, join(dir, 'adapter'));
    const adapter = await loadPeftAdapter(join(dir, 'adapter'));
    expect(adapter.config.r).toBe(3);
    expect(adapter.modules.map((m) => m.path).sort()).toEqual([...CONV_MODULES].sort());
    expect(adapter.modules.find((m) => m.path === 'conv1')!.loraA.shape).toEqual([3, 3, 3, 3]);
    const back = applyLora(graph, adapter);
    adapter.dispose();
    const [a, b] = [lg.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor];
    expect(await maxDiff(a, b)).toBe(0);
    tf.dispose([a, b]);
    back.dispose();
    lg.dispose();
  });
});

describe('adapters', () => {
  let lg: LoraGraphModel;
  beforeAll(() => {
    lg = applyLora(graph, { r: 2, targetModules: ['conv1'], initLoraWeights: false }, { seed: 1 });
  });
  afterAll(() => lg.dispose());

  it('add (inactive), set, delete; disable gives the base outputs', async () => {
    lg.addAdapter('other', { r: 1, targetModules: ['head'], initLoraWeights: false }, { seed: 3 });
    expect(lg.activeAdapters).toEqual(['default']);
    expect(lg.trainableVariables).toHaveLength(2);
    const yd = lg.predict(x) as tf.Tensor;
    lg.setAdapter(['default', 'other']);
    expect(lg.trainableVariables).toHaveLength(4);
    const both = lg.predict(x) as tf.Tensor;
    expect(await maxDiff(both, yd)).toBeGreaterThan(1e-4);
    const base = graph.predict(x) as tf.Tensor;
    const off = lg.withAdaptersDisabled(() => lg.predict(x) as tf.Tensor);
    expect(await maxDiff(off, base)).toBe(0);
    lg.deleteAdapter('other');
    expect(lg.adapterNames).toEqual(['default']);
    const again = lg.predict(x) as tf.Tensor;
    expect(await maxDiff(again, yd)).toBe(0);
    tf.dispose([yd, both, base, off, again]);
    expect(() => lg.deleteAdapter('default')).toThrow(AdapterStateError);
  });

  it('counts parameters: r·(rows + cols) per adapted node', () => {
    const c = lg.trainableParameters();
    expect(c.trainable).toBe(2 * (3 * 3 * 3 + 4));
    const base = Object.values(w).reduce((s, t) => s + t.size, 0);
    expect(c.total).toBe(base + c.trainable);
  });

  it('targetModules: node names with "/", regexes, all-linear (not the output MatMul)', () => {
    expect(() => applyLora(graph, { r: 1, targetModules: 'all-linear' })).toThrow(/all-linear/);
    expect(() => applyLora(graph, { r: 1, targetModules: ['nope'] })).toThrow(/conv1/);
  });

  it('refuses what it does not implement, naming the field', () => {
    expect(() => applyLora(graph, { r: 1, targetModules: ['pw'], bias: 'all' })).toThrow(LoraConfigError);
    expect(() => applyLora(graph, { r: 1, targetModules: ['pw'], useDora: true })).toThrow(/useDora/);
  });
});

describe('LoRA dropout', () => {
  it('acts on the branch in training only; inference and B = 0 are unaffected', async () => {
    const lg = applyLora(
      graph,
      { r: 2, targetModules: [...CONV_MODULES], loraDropout: 0.5, initLoraWeights: false },
      { seed: 1 },
    );
    const plain = applyLora(graph, { r: 2, targetModules: [...CONV_MODULES], initLoraWeights: false }, { seed: 1 });
    const [inf, ref, trainA, trainB] = [
      lg.predict(x) as tf.Tensor,
      plain.predict(x) as tf.Tensor,
      lg.apply(x, { training: true }) as tf.Tensor,
      lg.apply(x, { training: true }) as tf.Tensor,
    ];
    expect(await maxDiff(inf, ref)).toBe(0);
    expect(await maxDiff(trainA, inf)).toBeGreaterThan(1e-4);
    expect(await maxDiff(trainA, trainB)).toBeGreaterThan(1e-4); // a new mask each call
    const base = lg.withAdaptersDisabled(() => lg.apply(x, { training: true }) as tf.Tensor);
    const graphOut = graph.predict(x) as tf.Tensor;
    expect(await maxDiff(base, graphOut)).toBe(0);
    const g = tf.variableGrads(
      () => tf.sum(lg.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      lg.trainableVariables,
    );
    for (const v of Object.values(g.grads)) {
      const ok = tf.tidy(() => tf.all(tf.isFinite(v)));
      expect((await ok.data())[0]).toBe(1);
      ok.dispose();
    }
    tf.dispose([inf, ref, trainA, trainB, base, graphOut, g.value, ...Object.values(g.grads)]);
    lg.dispose();
    plain.dispose();
  });
});

describe('graphs that need executeAsync', () => {
  it('are refused with the nodes named', async () => {
    const eye = tf.eye(2);
    const artifacts = await graphArtifacts(
      [
        placeholder('x', [-1, 2]),
        constant('k'),
        matMul('mm', 'x', 'k'),
        node('cond', 'Where', ['mm'], { T: { type: 'DT_FLOAT' } }),
        node('out', 'Identity', ['cond']),
      ],
      { k: eye },
    );
    eye.dispose();
    const g = await loadGraphModel(tf.io.fromMemory(artifacts));
    const err = (() => {
      try {
        applyLora(g, { r: 1, targetModules: ['mm'] });
      } catch (e) {
        return e;
      }
    })();
    expect(UnsupportedGraphError.isInstance(err)).toBe(true);
    expect((err as Error).message).toMatch(/executeAsync\(\): cond \(Where\)/);
    g.dispose();
  });
});
