// The Embedding adapter against PEFT 0.21's `embedding` case (@tfjs-lora/test-support: peft-cases/embedding):
// outputs with the adapter on and off, both LoRA gradients and merge_and_unload's table, within 1e-5,
// on the cpu backend and on wasm (whose gather gradient needs @tfjs-lora/backend-wasm's UnsortedSegmentSum).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLora, loadPeftAdapter, LoraConfigError, type LoraModel } from '@tfjs-lora/core';
import { disposeCase, loadPeftCase, maxAbsDiff, peftCasePath, type PeftCase } from '@tfjs-lora/test-support';
import { activate, wasmUnavailable } from '../test-support/backends.js';
import { peftReferences, tensorOf } from '../test-support/references.js';
import { embeddingLayerKind, initEmbeddingFactors } from './embedding-layer-kind.js';
import './register-on-import.js';

const TOL = 1e-5;
const wasmReason = await wasmUnavailable();
if (wasmReason) console.warn(`SKIP embedding PEFT case on wasm: ${wasmReason}`);

function embeddingModel(num: number, dim: number, time: number, name = 'emb'): tfl.LayersModel {
  const ids = tfl.input({ shape: [time], dtype: 'int32' });
  const out = tfl.layers.embedding({ name, inputDim: num, outputDim: dim }).apply(ids) as tfl.SymbolicTensor;
  return tfl.model({ inputs: ids, outputs: out });
}

const backends = [
  { name: 'cpu' as const, skip: false },
  { name: 'wasm' as const, skip: wasmReason !== null },
];

describe.each(backends)('PEFT case embedding ($name)', ({ name, skip }) => {
  let c: PeftCase;
  let base: tfl.LayersModel;
  let lm: LoraModel;

  beforeAll(async () => {
    if (skip) return;
    await activate(name);
    c = loadPeftCase('embedding');
    base = embeddingModel(50, 16, 5);
    base.getLayer('emb').setWeights([c.base['emb.weight']!]);
    const adapter = await loadPeftAdapter(join(peftCasePath('embedding'), 'adapter'));
    lm = applyLora(base, adapter);
    adapter.dispose();
  });

  afterAll(async () => {
    if (skip) return;
    lm.dispose();
    base.dispose();
    disposeCase(c);
    await activate('cpu');
  });

  it.skipIf(skip)('matches output and output_base', () => {
    const before = tf.memory().numTensors;
    const out = lm.model.predict(c.io['input']!) as tf.Tensor;
    expect(maxAbsDiff(out, c.io['output']!)).toBeLessThan(TOL);
    const off = lm.withAdaptersDisabled(() => lm.model.predict(c.io['input']!) as tf.Tensor);
    expect(maxAbsDiff(off, c.io['output_base']!)).toBeLessThan(TOL);
    tf.dispose([out, off]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(skip)('matches the gradients of lora_embedding_A and lora_embedding_B', () => {
    const before = tf.memory().numTensors;
    const { layer } = lm.loraLayers()[0]!;
    const w = layer.weightsOf('default');
    const vars = [w.loraA, w.loraB].map((v) => tf.engine().registeredVariables[v.name]!);
    const { value, grads } = tf.variableGrads(
      () =>
        tf.sum(tf.mul(lm.model.apply(c.io['input']!, { training: true }) as tf.Tensor, c.io['upstream']!)) as tf.Scalar,
      vars,
    );
    for (const [factor, v] of [
      ['loraA', w.loraA],
      ['loraB', w.loraB],
    ] as const) {
      const key = `grad.base_model.model.emb.${embeddingLayerKind.peftNames[factor]}`;
      const ours = embeddingLayerKind.toPeft(layer.layer, factor, grads[v.name]!);
      expect(maxAbsDiff(ours, c.io[key]!), key).toBeLessThan(TOL);
      ours.dispose();
    }
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(skip)('matches merge_and_unload, and merge/unmerge restores the table bit-exactly', () => {
    const merged = lm.mergeAndUnload();
    expect(merged.getLayer('emb').getClassName()).toBe('Embedding');
    const [table] = merged.getLayer('emb').getWeights();
    expect(maxAbsDiff(table!, c.io['merged.emb.weight']!)).toBeLessThan(TOL);
    const out = merged.predict(c.io['input']!) as tf.Tensor;
    expect(maxAbsDiff(out, c.io['output']!)).toBeLessThan(TOL);
    tf.dispose(out);
    merged.dispose();
    const before = tf.memory().numTensors;
    const table0 = lm.loraLayers()[0]!.layer;
    const original = tf.clone(table0.kind.kernel(table0.layer).read());
    lm.merge();
    lm.unmerge();
    expect(maxAbsDiff(table0.kind.kernel(table0.layer).read(), original)).toBe(0);
    original.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Embedding adapter behaviour (cpu)', () => {
  beforeAll(async () => {
    await activate('cpu');
  });

  it('initialises as PEFT: A zeros and B standard normal, both normal with initLoraWeights false', () => {
    const before = tf.memory().numTensors;
    const stats = (t: tf.Tensor) =>
      tf.tidy(() => {
        const { mean, variance } = tf.moments(t);
        return {
          mean: mean.dataSync()[0]!,
          std: Math.sqrt(variance.dataSync()[0]!),
          maxAbs: tf.max(tf.abs(t)).dataSync()[0]!,
        };
      });
    const init = initEmbeddingFactors(400, 64, 8, true, 3);
    expect(init.loraA.shape).toEqual([400, 8]);
    expect(stats(init.loraA).maxAbs).toBe(0);
    expect(Math.abs(stats(init.loraB).mean)).toBeLessThan(0.1);
    expect(Math.abs(stats(init.loraB).std - 1)).toBeLessThan(0.1);
    const plain = initEmbeddingFactors(400, 64, 8, false, 3);
    expect(Math.abs(stats(plain.loraA).std - 1)).toBeLessThan(0.05);
    tf.dispose([init.loraA, init.loraB, plain.loraA, plain.loraB]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('starts as the identity, trains, and survives model.save / loadLayersModel', async () => {
    const base = embeddingModel(30, 8, 4, 'tokens');
    const lm = applyLora(base, { r: 2, loraAlpha: 4, targetModules: ['tokens'] }, { seed: 5 });
    const ids = tf.tensor2d(
      [
        [1, 2, 3, 29],
        [0, 0, 7, 7],
      ],
      undefined,
      'int32',
    );
    const y0 = base.predict(ids) as tf.Tensor;
    const y1 = lm.model.predict(ids) as tf.Tensor;
    expect(maxAbsDiff(y0, y1)).toBe(0);
    expect(lm.trainableParameters().trainable).toBe(30 * 2 + 2 * 8);
    const [optimizer, ones] = [tf.train.sgd(0.5), tf.onesLike(y0)];
    lm.model.compile({ optimizer, loss: 'meanSquaredError' });
    await lm.model.fit(ids, ones, { epochs: 3, verbose: 0 });
    const y2 = lm.model.predict(ids) as tf.Tensor;
    expect(maxAbsDiff(y2, y0)).toBeGreaterThan(1e-3);
    let saved: tf.io.ModelArtifacts | undefined;
    await lm.model.save(
      tf.io.withSaveHandler(
        async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
      ),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const y3 = loaded.predict(ids) as tf.Tensor;
    expect(maxAbsDiff(y3, y2)).toBe(0);
    tf.dispose([ids, y0, y1, y2, y3, ones]);
    [loaded, lm, base].forEach((m) => m.dispose());
    optimizer.dispose();
  });

  it('DoRA matches PEFT (magnitude per embedding dimension): outputs, gradients, merged table', () => {
    const ref = peftReferences().dora_embedding;
    const base = embeddingModel(12, 6, 3);
    const table = tensorOf(ref['base']!);
    base.getLayer('emb').setWeights([table]);
    const lm = applyLora(base, { r: 2, loraAlpha: 4, targetModules: ['emb'], useDora: true });
    const { layer } = lm.loraLayers()[0]!;
    const w = layer.weightsOf('default');
    tf.tidy(() => {
      w.loraA.write(embeddingLayerKind.fromPeft(layer.layer, 'loraA', tensorOf(ref['lora_embedding_A']!)));
      w.loraB.write(embeddingLayerKind.fromPeft(layer.layer, 'loraB', tensorOf(ref['lora_embedding_B']!)));
      w.magnitude!.write(tensorOf(ref['lora_magnitude_vector']!));
    });
    const before = tf.memory().numTensors;
    const ids = tensorOf(ref['ids']!, 'int32');
    const upstream = tensorOf(ref['upstream']!);
    const expected = (key: string) => tensorOf(ref[key]!);
    tf.tidy(() => {
      expect(maxAbsDiff(lm.model.predict(ids) as tf.Tensor, expected('output'))).toBeLessThan(TOL);
      const off = lm.withAdaptersDisabled(() => lm.model.predict(ids) as tf.Tensor);
      expect(maxAbsDiff(off, expected('output_base'))).toBeLessThan(TOL);
      const vars = [w.loraA, w.loraB, w.magnitude!].map((v) => tf.engine().registeredVariables[v.name]!);
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(lm.model.apply(ids, { training: true }) as tf.Tensor, upstream)) as tf.Scalar,
        vars,
      );
      expect(
        maxAbsDiff(
          embeddingLayerKind.toPeft(layer.layer, 'loraA', grads[w.loraA.name]!),
          expected('grad.lora_embedding_A'),
        ),
      ).toBeLessThan(TOL);
      expect(
        maxAbsDiff(
          embeddingLayerKind.toPeft(layer.layer, 'loraB', grads[w.loraB.name]!),
          expected('grad.lora_embedding_B'),
        ),
      ).toBeLessThan(TOL);
      expect(maxAbsDiff(grads[w.magnitude!.name]!, expected('grad.lora_magnitude_vector'))).toBeLessThan(TOL);
    });
    tf.dispose([ids, upstream]);
    expect(tf.memory().numTensors).toBe(before);
    const merged = lm.mergeAndUnload();
    const mergedTable = expected('merged');
    expect(maxAbsDiff(merged.getLayer('emb').getWeights()[0]!, mergedTable)).toBeLessThan(TOL);
    tf.dispose([table, mergedTable]);
    [merged, lm, base].forEach((m) => m.dispose());
  });

  it('refuses an Embedding with maskZero, saying what to do', () => {
    const ids = tfl.input({ shape: [3] });
    const out = tfl.layers
      .embedding({ name: 'masked', inputDim: 5, outputDim: 2, maskZero: true })
      .apply(ids) as tfl.SymbolicTensor;
    const base = tfl.model({ inputs: ids, outputs: out });
    expect(() => applyLora(base, { r: 1, targetModules: ['masked'] })).toThrow(LoraConfigError);
    expect(() => applyLora(base, { r: 1, targetModules: ['masked'] })).toThrow(/maskZero: false/);
    base.dispose();
  });
});
