// Per-row mixed adapters: against PEFT's `adapter_names` forward (test-support/peft-references.json) and
// against the per-adapter loop, within 1e-5, with no tensor left behind.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AdapterStateError,
  applyLora,
  composedMultiAdapterMatMul,
  cpuBackend,
  LoraConfigError,
  registerLoraBackend,
  unregisterLoraBackend,
  type LoraModel,
  type MultiAdapterMatMulArgs,
} from '@tfjs-lora/core';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { peftReferences, tensorOf } from '../test-support/references.js';
import { BASE_ADAPTER, mixedAdapterView, predictLoopingAdapters, predictWithAdapters } from './mixed-batch.js';
import { transformerLM } from './transformer.js';
import './register-on-import.js';

const TOL = 1e-5;

/** PEFT's test model: Embedding(10, 4) → Linear(4, 5), adapters 'one' (r=2, alpha=4) and 'two' (r=3, alpha=3). */
function peftModel(): { lm: LoraModel; base: tfl.LayersModel } {
  const ref = peftReferences().mixed_batch;
  const ids = tfl.input({ shape: [3], dtype: 'int32' });
  const h = tfl.layers.embedding({ name: 'emb', inputDim: 10, outputDim: 4 }).apply(ids);
  const out = tfl.layers.dense({ name: 'fc', units: 5 }).apply(h) as tfl.SymbolicTensor;
  const base = tfl.model({ inputs: ids, outputs: out });
  tf.tidy(() => {
    base.getLayer('emb').setWeights([tensorOf(ref.base['emb.weight']!)]);
    base.getLayer('fc').setWeights([tf.transpose(tensorOf(ref.base['fc.weight']!)), tensorOf(ref.base['fc.bias']!)]);
  });
  const lm = applyLora(base, { r: 2, loraAlpha: 4, targetModules: ['emb', 'fc'] }, { adapterName: 'one' });
  lm.addAdapter('two', { r: 3, loraAlpha: 3, targetModules: ['emb', 'fc'] });
  for (const { path, layer } of lm.loraLayers()) {
    for (const name of ['one', 'two']) {
      const w = layer.weightsOf(name);
      const key = (f: 'A' | 'B') =>
        path === 'emb' ? `emb.lora_embedding_${f}.${name}` : `fc.lora_${f}.${name}.weight`;
      tf.tidy(() => {
        w.loraA.write(layer.kind.fromPeft(layer.layer, 'loraA', tensorOf(ref[key('A')]!)));
        w.loraB.write(layer.kind.fromPeft(layer.layer, 'loraB', tensorOf(ref[key('B')]!)));
      });
    }
  }
  return { lm, base };
}

describe('per-row mixed adapters', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each(['masked', 'gather'] as const)(
    "equals PEFT's adapter_names forward (Embedding + Linear, ranks 2 and 3, a base row; %s)",
    (strategy) => {
      const ref = peftReferences().mixed_batch;
      const { lm, base } = peftModel();
      const ids = tensorOf(ref.ids, 'int32');
      const expected = tensorOf(ref['output']!);
      const before = tf.memory().numTensors;
      const mixed = predictWithAdapters(lm, ids, ref.adapter_names, { strategy }) as tf.Tensor;
      expect(maxAbsDiff(mixed, expected)).toBeLessThan(TOL);
      const looped = predictLoopingAdapters(lm, ids, ref.adapter_names);
      expect(maxAbsDiff(looped, expected)).toBeLessThan(TOL);
      tf.dispose([mixed, looped]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([ids, expected]);
      lm.dispose();
      base.dispose();
    },
  );

  it.each(['auto', 'masked', 'gather'] as const)(
    'equals the per-adapter loop on a transformer LM with 4 adapters of different ranks and base rows (%s)',
    (strategy) => {
      const base = transformerLM({ vocabSize: 19, maxLength: 8, width: 16, numHeads: 2, numLayers: 2, seed: 3 });
      const lm = applyLora(
        base,
        { r: 2, targetModules: ['wte', 'query', 'value'], initLoraWeights: false },
        { adapterName: 'a', seed: 1 },
      );
      lm.addAdapter('b', { r: 4, loraAlpha: 8, targetModules: 'all-linear', initLoraWeights: false }, { seed: 2 });
      lm.addAdapter('c', { r: 1, targetModules: ['value'], initLoraWeights: false }, { seed: 3 });
      lm.addAdapter(
        'd',
        { r: 8, useRslora: true, targetModules: ['wte', 'query', 'key'], initLoraWeights: false },
        { seed: 4 },
      );
      const names = ['a', 'b', BASE_ADAPTER, 'c', 'd', 'a', 'd', BASE_ADAPTER, 'b'];
      const ids = tf.randomUniform([names.length, 6], 0, 19, 'int32', 5);
      const looped = predictLoopingAdapters(lm, ids, names);
      const mixed = predictWithAdapters(lm, ids, names, { strategy }) as tf.Tensor;
      expect(maxAbsDiff(mixed, looped)).toBeLessThan(TOL);
      const allBase = predictWithAdapters(
        lm,
        ids,
        names.map(() => BASE_ADAPTER),
        { strategy },
      ) as tf.Tensor;
      const plain = base.predict(ids) as tf.Tensor;
      expect(maxAbsDiff(allBase, plain)).toBeLessThan(TOL);
      expect(maxAbsDiff(mixed, plain)).toBeGreaterThan(1e-3); // the adapters do change the rows that use them
      tf.dispose([ids, looped, mixed, allBase, plain]);
      lm.dispose();
      base.dispose();
    },
  );

  it("uses the active backend's fused multiAdapterMatMul when it has one (tokens flattened to rows)", () => {
    const seen: number[][] = [];
    registerLoraBackend({
      ...cpuBackend,
      name: 'cpu-with-fused-kernel',
      priority: 1,
      kernels: {
        multiAdapterMatMul: (args: MultiAdapterMatMulArgs) => (
          seen.push(args.x.shape),
          composedMultiAdapterMatMul(args)
        ),
      },
    });
    try {
      const base = transformerLM({ vocabSize: 13, maxLength: 8, width: 8, numHeads: 2, numLayers: 1, seed: 6 });
      const lm = applyLora(
        base,
        { r: 2, targetModules: ['query', 'value'], initLoraWeights: false },
        { adapterName: 'x', seed: 1 },
      );
      lm.addAdapter('y', { r: 3, targetModules: ['value'], initLoraWeights: false }, { seed: 2 });
      const names = ['y', 'x', BASE_ADAPTER];
      const ids = tf.randomUniform([3, 5], 0, 13, 'int32', 7);
      const looped = predictLoopingAdapters(lm, ids, names);
      const mixed = predictWithAdapters(lm, ids, names) as tf.Tensor;
      expect(seen).toEqual([
        [15, 8],
        [15, 8],
      ]);
      expect(maxAbsDiff(mixed, looped)).toBeLessThan(TOL);
      tf.dispose([ids, looped, mixed]);
      [lm, base].forEach((m) => m.dispose());
    } finally {
      unregisterLoraBackend('cpu-with-fused-kernel');
    }
  });

  it('works on a Sequential model with rank-2 inputs (core composed kernel)', () => {
    const base = tfl.sequential({
      layers: [
        tfl.layers.dense({ name: 'fc1', units: 6, inputShape: [4], activation: 'relu' }),
        tfl.layers.dense({ name: 'fc2', units: 3 }),
      ],
    });
    const lm = applyLora(
      base,
      { r: 2, targetModules: ['fc1', 'fc2'], initLoraWeights: false },
      { adapterName: 'p', seed: 1 },
    );
    lm.addAdapter('q', { r: 3, targetModules: ['fc2'], initLoraWeights: false }, { seed: 2 });
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
    const names = ['q', BASE_ADAPTER, 'p', 'p', 'q'];
    const looped = predictLoopingAdapters(lm, x, names);
    for (const strategy of ['masked', 'gather'] as const) {
      const mixed = predictWithAdapters(lm, x, names, { strategy }) as tf.Tensor;
      expect(maxAbsDiff(mixed, looped)).toBeLessThan(TOL);
      mixed.dispose();
    }
    tf.dispose([x, looped]);
    lm.dispose();
    base.dispose();
  });

  it('a view and its LoRA model free every weight when both are disposed, in either order', () => {
    for (const viewFirst of [true, false]) {
      const before = tf.memory().numTensors;
      const base = transformerLM({ vocabSize: 13, maxLength: 8, width: 8, numHeads: 2, numLayers: 1, seed: 8 });
      const lm = applyLora(base, { r: 2, targetModules: ['wte', 'value'] });
      const view = mixedAdapterView(lm);
      const ids = tf.zeros([2, 3], 'int32');
      tf.dispose([view.predict(ids, ['default', BASE_ADAPTER]) as tf.Tensor, ids]);
      if (viewFirst) view.dispose();
      lm.dispose();
      if (!viewFirst) view.dispose();
      base.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('refuses merged layers, DoRA, unknown names and a wrong row count, saying what to do', () => {
    const base = transformerLM({ vocabSize: 11, maxLength: 8, width: 8, numHeads: 2, numLayers: 1, seed: 4 });
    const lm = applyLora(base, { r: 2, targetModules: ['query'] });
    const ids = tf.zeros([2, 3], 'int32');
    expect(() => predictWithAdapters(lm, ids, ['default'])).toThrow(/one name per batch row/);
    expect(() => predictWithAdapters(lm, ids, ['default', 'nope'])).toThrow(AdapterStateError);
    lm.merge();
    expect(() => predictWithAdapters(lm, ids, ['default', BASE_ADAPTER])).toThrow(/unmerge\(\) first/);
    lm.unmerge();
    const dora = applyLora(base, { r: 2, targetModules: ['query'], useDora: true });
    const [view, rows] = [mixedAdapterView(dora), tf.zeros([2, 1], 'int32')];
    expect(() => view.model.predict([ids, rows])).toThrow(LoraConfigError);
    view.dispose(); // the view holds references to dora's layers
    tf.dispose([ids, rows]);
    [lm, dora, base].forEach((m) => m.dispose());
  });
});
