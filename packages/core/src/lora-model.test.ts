import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { AdapterStateError, LoraConfigError, LoraError } from './errors/index.js';
import { LoraLayer } from './lora-layer.js';
import { applyLora } from './apply-lora.js';
import { randomiseAdapters } from '../test-support/random-factors.js';

/** A functional model with a residual add and a Dense head: x → d1 → relu → (d2 + d1) → head. */
function functional(seed = 1): tfl.LayersModel {
  const input = tfl.input({ shape: [6] });
  const d1 = tfl.layers
    .dense({ name: 'd1', units: 8, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) })
    .apply(input) as tfl.SymbolicTensor;
  const d2 = tfl.layers
    .dense({ name: 'd2', units: 8, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) })
    .apply(d1) as tfl.SymbolicTensor;
  const sum = tfl.layers.add().apply([d1, d2]) as tfl.SymbolicTensor;
  const head = tfl.layers
    .dense({ name: 'head', units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }) })
    .apply(sum) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: head });
}

const x = () => tf.randomNormal([5, 6], 0, 1, 'float32', 42);

function predict(m: tfl.LayersModel): tf.Tensor {
  return tf.tidy(() => {
    const input = x();
    return m.predict(input) as tf.Tensor;
  });
}

describe('LoraModel on a functional model', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('wraps targets, keeps layer names, and starts equal to the base (B = 0)', async () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: ['d1', 'd2'], r: 2, loraAlpha: 4 }, { seed: 3 });
    expect(lm.model.getLayer('d1')).toBeInstanceOf(LoraLayer);
    expect(lm.model.getLayer('head')).not.toBeInstanceOf(LoraLayer);
    const a = predict(base);
    const b = predict(lm.model);
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([a, b]);
    expect(lm.model.trainableWeights.map((w) => w.originalName).sort()).toEqual([
      'd1/lora_A.default',
      'd1/lora_B.default',
      'd2/lora_A.default',
      'd2/lora_B.default',
    ]);
    lm.dispose();
    base.dispose();
  });

  it('merge → unmerge restores the base kernels bit-exactly; merged output equals unmerged within 1e-5', async () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: 'all-linear', r: 3, loraAlpha: 6, useRslora: true });
    expect(lm.loraLayers().map((l) => l.path)).toEqual(['d1', 'd2']); // head is the output layer
    randomiseAdapters(lm, 7, 0.5);
    const kernels = lm.loraLayers().map(({ layer }) => Array.from(layer.kind.kernel(layer.layer).read().dataSync()));
    const unmerged = predict(lm.model);
    lm.merge();
    const merged = predict(lm.model);
    expect(maxAbsDiff(merged, unmerged)).toBeLessThan(1e-5);
    expect(lm.loraLayers().every(({ layer }) => layer.merged.length === 1)).toBe(true);
    lm.unmerge();
    const after = lm.loraLayers().map(({ layer }) => Array.from(layer.kind.kernel(layer.layer).read().dataSync()));
    expect(after).toEqual(kernels);
    tf.dispose([unmerged, merged]);
    lm.dispose();
    base.dispose();
  });

  it('merge({ safeMerge: true }) awaits to the same kernels as the synchronous merge, leaks nothing, and mergeAndUnload agrees', async () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: ['d1', 'd2'], r: 2, useDora: true });
    randomiseAdapters(lm, 7, 0.5);
    const read = (): number[][] =>
      lm.loraLayers().map(({ layer }) => Array.from(layer.kind.kernel(layer.layer).read().dataSync()));
    lm.merge();
    const syncMerged = read();
    lm.unmerge();
    const before = tf.memory().numTensors;
    const pending = lm.merge({ safeMerge: true });
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    expect(read()).toEqual(syncMerged);
    lm.unmerge();
    expect(tf.memory().numTensors).toBe(before);
    const plain = await lm.mergeAndUnload({ safeMerge: true });
    const plainSync = lm.mergeAndUnload();
    const x = tf.randomNormal([3, 6], 0, 1, 'float32', 3);
    const [a, b] = [plain.predict(x) as tf.Tensor, plainSync.predict(x) as tf.Tensor];
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([x, a, b]);
    plain.dispose();
    plainSync.dispose();
    lm.dispose();
    base.dispose();
  });

  it('the synchronous LoraLayer.merge({ safeMerge }) refuses on a backend without host reads and names mergeAsync', async () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: ['d1'], r: 2 });
    const { layer } = lm.loraLayers()[0];
    tf.registerBackend('no-sync-reads', () => new MathBackendCPU());
    try {
      await tf.setBackend('no-sync-reads');
      expect(() => layer.merge({ safeMerge: true })).toThrow(LoraError);
      expect(() => layer.merge({ safeMerge: true })).toThrow(/'no-sync-reads'.*mergeAsync/);
    } finally {
      await tf.setBackend('cpu');
      tf.removeBackend('no-sync-reads');
    }
    expect(layer.merged).toEqual([]);
    lm.dispose();
    base.dispose();
  });

  it('100 merge/unmerge/setAdapter cycles leak no tensor', async () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: ['d1', 'd2'], r: 2 });
    lm.addAdapter('other', { targetModules: ['d2'], r: 4, useDora: true });
    randomiseAdapters(lm, 7, 0.5);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      lm.setAdapter(i % 2 === 0 ? 'other' : 'default');
      lm.merge();
      const y = predict(lm.model);
      y.dispose();
      lm.unmerge();
      lm.disableAdapters();
      lm.enableAdapters();
    }
    expect(tf.memory().numTensors).toBe(before);
    lm.dispose();
    base.dispose();
  });

  it('disableAdapters / withAdaptersDisabled give the base model output', async () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: ['d1'], r: 2 });
    randomiseAdapters(lm, 7, 0.5);
    const ref = predict(base);
    const on = predict(lm.model);
    expect(maxAbsDiff(on, ref)).toBeGreaterThan(1e-3);
    const off = lm.withAdaptersDisabled(() => predict(lm.model));
    expect(maxAbsDiff(off, ref)).toBe(0);
    const again = predict(lm.model);
    expect(maxAbsDiff(again, on)).toBe(0);
    tf.dispose([ref, on, off, again]);
    lm.dispose();
    base.dispose();
  });

  it('model.save() of an unmerged LoRA model loads back with tf.loadLayersModel', async () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: ['d1', 'd2'], r: 2 }, { adapterName: 'style_a' });
    randomiseAdapters(lm, 7, 0.5);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await lm.model.save(
      tf.io.withSaveHandler(
        async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
      ),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    const layer = loaded.getLayer('d1') as LoraLayer;
    expect(layer).toBeInstanceOf(LoraLayer);
    expect(layer.adapterNames).toEqual(['style_a']); // survives tfjs's snake/camel-case rewriting
    const a = predict(lm.model);
    const b = predict(loaded);
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([a, b]);
    loaded.dispose();
    lm.dispose();
    base.dispose();
  });

  it('mergeAndUnload returns stock layers only, with the adapted output, and leaves the LoraModel as it was', async () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: ['d1', 'd2'], r: 2 });
    randomiseAdapters(lm, 7, 0.5);
    const before = predict(lm.model);
    const plain = lm.mergeAndUnload();
    const json = JSON.stringify(plain.toJSON(null, false));
    expect(json).not.toContain('LoraLayer');
    expect(plain.weights.map((w) => w.originalName).sort()).toEqual(base.weights.map((w) => w.originalName).sort());
    const out = predict(plain);
    expect(maxAbsDiff(out, before)).toBeLessThan(1e-5);
    expect(lm.loraLayers().every(({ layer }) => layer.merged.length === 0)).toBe(true);
    const still = predict(lm.model);
    expect(maxAbsDiff(still, before)).toBe(0);
    tf.dispose([before, out, still]);
    plain.dispose();
    lm.dispose();
    base.dispose();
  });

  it('named adapters: only the active one trains; setAdapter switches outputs; deleteAdapter frees weights', async () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: ['d1'], r: 2 });
    lm.addAdapter('b', { targetModules: ['d1', 'd2'], r: 3 });
    expect(lm.activeAdapters).toEqual(['default']);
    randomiseAdapters(lm, 7, 0.5);
    const names = () => lm.model.trainableWeights.map((w) => w.originalName).sort();
    expect(names()).toEqual(['d1/lora_A.default', 'd1/lora_B.default']);
    const yDefault = predict(lm.model);
    lm.setAdapter('b');
    expect(names()).toEqual(['d1/lora_A.b', 'd1/lora_B.b', 'd2/lora_A.b', 'd2/lora_B.b']);
    const yB = predict(lm.model);
    expect(maxAbsDiff(yDefault, yB)).toBeGreaterThan(1e-4);
    const count = lm.model.weights.length;
    lm.deleteAdapter('default');
    expect(lm.model.weights.length).toBe(count - 2);
    expect(lm.adapterNames).toEqual(['b']);
    expect(() => lm.deleteAdapter('b')).toThrow(AdapterStateError);
    expect(() => lm.setAdapter('nope')).toThrow(/No adapter 'nope'/);
    tf.dispose([yDefault, yB]);
    lm.dispose();
    base.dispose();
  });

  it('modulesToSave: the head trains, and disabling adapters restores its original weights', async () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: ['d1'], r: 2, modulesToSave: ['head'] });
    expect(lm.model.trainableWeights.map((w) => w.originalName)).toContain('head/kernel');
    const head = lm.model.getLayer('head');
    const original = head.getWeights().map((t) => t.arraySync());
    tf.tidy(() => head.setWeights(head.getWeights().map((t) => tf.add(t, 1))));
    lm.disableAdapters();
    expect(head.getWeights().map((t) => t.arraySync())).toEqual(original);
    lm.enableAdapters();
    expect(head.getWeights()[1].arraySync()).toEqual((original[1] as number[]).map((v) => Math.fround(v + 1)));
    lm.dispose();
    base.dispose();
  });

  it('PiSSA and OLoRA initialisation keep the initial output equal to the base output', async () => {
    for (const init of ['pissa', 'olora', 'pissa_niter_4'] as const) {
      const base = functional();
      const pending = applyLora(base, { targetModules: ['d1', 'd2'], r: 2, initLoraWeights: init });
      expect(pending).toBeInstanceOf(Promise);
      const lm = await pending;
      const a = predict(base);
      const b = predict(lm.model);
      expect(maxAbsDiff(a, b), init).toBeLessThan(1e-5);
      const off = lm.withAdaptersDisabled(() => predict(lm.model));
      expect(maxAbsDiff(a, off), `${init} moves the principal part out of W`).toBeGreaterThan(1e-3);
      tf.dispose([a, b, off]);
      lm.dispose();
      base.dispose();
    }
  });

  it('dropout acts only in training', async () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: ['d1'], r: 2, loraDropout: 0.5 });
    randomiseAdapters(lm, 7, 0.5);
    const input = x();
    const a = lm.model.apply(input, { training: false }) as tf.Tensor;
    const b = lm.model.predict(input) as tf.Tensor;
    const c = lm.model.apply(input, { training: true }) as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-4);
    tf.dispose([input, a, b, c]);
    lm.dispose();
    base.dispose();
  });

  it('errors: unknown target lists the layers; non-finite merge leaves the weights unchanged', async () => {
    const base = functional();
    expect(() => applyLora(base, { targetModules: ['q_proj'] })).toThrow(LoraConfigError);
    expect(() => applyLora(base, { targetModules: ['q_proj'] })).toThrow(/d1/);
    const lm = applyLora(base, { targetModules: ['d1'], r: 2 });
    const w = lm.loraLayers()[0].layer.weightsOf('default');
    tf.tidy(() => {
      w.loraB.write(tf.fill(w.loraB.shape as number[], Number.NaN));
    });
    const kernel = Array.from(lm.loraLayers()[0].layer.kind.kernel(lm.loraLayers()[0].layer.layer).read().dataSync());
    await expect(lm.merge({ safeMerge: true })).rejects.toThrow(/NaN or Inf/);
    await expect(lm.mergeAndUnload({ safeMerge: true })).rejects.toThrow(/NaN or Inf/);
    expect(() => lm.loraLayers()[0].layer.merge({ safeMerge: true })).toThrow(/NaN or Inf/);
    await expect(lm.loraLayers()[0].layer.mergeAsync({ safeMerge: true })).rejects.toThrow(/NaN or Inf/);
    const after = Array.from(lm.loraLayers()[0].layer.kind.kernel(lm.loraLayers()[0].layer.layer).read().dataSync());
    expect(after).toEqual(kernel);
    expect(lm.loraLayers()[0].layer.merged).toEqual([]);
    expect(() => applyLora(lm.model, { targetModules: ['d2'] })).toThrow(/already contains LoRA layers/);
    lm.dispose();
    base.dispose();
  });

  it('freezing survives Sequential.compile (which resets every weight flag), for every bias mode', () => {
    for (const bias of ['none', 'all', 'lora_only'] as const) {
      const base = tfl.sequential({
        layers: [
          tfl.layers.dense({ name: 's1', units: 5, inputShape: [4], activation: 'relu' }),
          tfl.layers.dense({ name: 's2', units: 3 }),
        ],
      });
      const lm = applyLora(base, { targetModules: ['s1'], r: 2, bias });
      const names = () => lm.model.trainableWeights.map((w) => w.originalName).sort();
      const want = names();
      const p = lm.trainableParameters();
      lm.model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      expect(names(), bias).toEqual(want);
      expect(lm.trainableParameters()).toEqual(p);
      expect(want.includes('s2/bias')).toBe(bias === 'all');
      expect(want.includes('s1/bias')).toBe(bias !== 'none');
      expect(want.some((n) => n.endsWith('/kernel'))).toBe(false);
      // The weights' own flags (used by optimizer.minimize without a var list) stay off too.
      const frozen = lm.model.weights.filter((w) => !want.includes(w.originalName));
      expect(frozen.every((w) => !w.trainable)).toBe(true);
      const names2 = new Set(frozen.map((w) => w.name));
      expect(
        Object.values(tf.engine().registeredVariables)
          .filter((v) => names2.has(v.name))
          .every((v) => !v.trainable),
      ).toBe(true);
      lm.dispose();
      base.dispose();
    }
  });

  it('modulesToSave on one adapter and bias "all" on another switch back and forth', () => {
    const base = functional();
    const lm = applyLora(base, { targetModules: ['d1'], r: 2, modulesToSave: ['head'] });
    lm.addAdapter('b', { targetModules: ['d2'], r: 2, bias: 'all' });
    const head = lm.model.getLayer('head');
    const original = head.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())] as const);
    tf.tidy(() => head.weights.forEach((w) => w.write(tf.add(w.read(), 1))));
    for (let i = 0; i < 3; i++) {
      lm.setAdapter('b'); // head: original values, bias trainable, kernel frozen (weights reordered)
      const now = new Map(head.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));
      for (const [name, values] of original) expect(now.get(name), name).toEqual(values);
      lm.setAdapter('default'); // head: the trained copy
      expect(
        Array.from(
          head.weights
            .find((w) => w.originalName.endsWith('bias'))!
            .read()
            .dataSync(),
        ),
      ).toEqual((original.find(([n]) => n.endsWith('bias'))![1] as number[]).map((v) => Math.fround(v + 1)));
    }
    lm.dispose();
    base.dispose();
  });

  it('refuses a model whose layers do not survive a config round trip, leaving it as it was', () => {
    // A layer whose getConfig() leaves out what sets its weights' shape (as tfjs-layers 4.22's SeparableConv2D
    // does with depthMultiplier, which core now restores): the rebuilt layer has other weights.
    class Lossy extends tfl.layers.Layer {
      static className = 'TestLossyScale';
      readonly width: number;
      constructor(args: { width?: number; name?: string }) {
        super(args);
        this.width = args.width ?? 1;
      }
      override build(): void {
        this.addWeight('scale', [this.width], 'float32', tfl.initializers.ones());
      }
      override call(x: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.mul(Array.isArray(x) ? x[0]! : x, this.weights[0]!.read());
      }
    }
    tf.serialization.registerClass(Lossy);
    const input = tfl.input({ shape: [4] });
    const scaled = new Lossy({ name: 'lossy', width: 4 }).apply(input) as tfl.SymbolicTensor;
    const head = tfl.layers.dense({ name: 'head', units: 2 }).apply(scaled) as tfl.SymbolicTensor;
    const base = tfl.model({ inputs: input, outputs: head });
    const before = tf.memory().numTensors;
    expect(() => applyLora(base, { targetModules: ['head'], r: 1 })).toThrow(/lost \d+ weight\(s\): lossy\//);
    expect(tf.memory().numTensors).toBe(before);
    expect(base.getLayer('lossy').getWeights()[0]!.shape).toEqual([4]);
    base.dispose();
  });
});

describe('userDefinedMetadata', () => {
  it('is carried to the LoRA model and the merged model (a format’s module aliases stay usable)', () => {
    const base = functional();
    const metadata = { peftModuleAliases: [['^fc1$', 'd1']], note: 'kept' };
    base.setUserDefinedMetadata(metadata);
    const lm = applyLora(base, { r: 2, targetModules: ['d1'] });
    expect(lm.model.getUserDefinedMetadata()).toEqual(metadata);
    const merged = lm.mergeAndUnload();
    expect(merged.getUserDefinedMetadata()).toEqual(metadata);
    merged.dispose();
    lm.dispose();
    base.dispose();
  });
});
