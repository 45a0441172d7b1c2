// MergedDense (loralib's MergedLinear) against closed forms: ΔW is zero on disabled parts and
// scaling·A_j·B_j on enabled part j; merged equals unmerged; loralib's tensor layout round-trips.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLora, LoraConfigError, type LoraModel } from '@tfjs-lora/core';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { MergedDense } from './merged-dense.js';
import { mergedDenseLayerKind } from './merged-dense-layer-kind.js';
import './register-on-import.js';

const IN = 6;
const WIDTH = 4;

function model(enableLora: boolean[]): tfl.LayersModel {
  const x = tfl.input({ shape: [3, IN] });
  const y = new MergedDense({ name: 'qkv', units: WIDTH * enableLora.length, enableLora, seed: 1 }).apply(
    x,
  ) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: y });
}

describe('MergedDense and its LoRA adapter', () => {
  let base: tfl.LayersModel;
  let lm: LoraModel;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    base = model([true, false, true]);
    lm = applyLora(base, { r: 2, loraAlpha: 6, targetModules: ['qkv'], initLoraWeights: false }, { seed: 3 });
  });

  it('has loralib shapes: A [in, k·r], B [k, r, width]; only enabled parts change', () => {
    const { layer } = lm.loraLayers()[0]!;
    const w = layer.weightsOf('default');
    expect(w.loraA.shape).toEqual([IN, 4]);
    expect(w.loraB.shape).toEqual([2, 2, WIDTH]);
    expect(lm.trainableParameters().trainable).toBe(IN * 4 + 2 * 2 * WIDTH);
    const x = tf.randomNormal([2, 3, IN], 0, 1, 'float32', 4);
    const before = tf.memory().numTensors;
    const y0 = base.predict(x) as tf.Tensor;
    const y1 = lm.model.predict(x) as tf.Tensor;
    const [q0, k0, v0] = tf.split(y0, 3, 2);
    const [q1, k1, v1] = tf.split(y1, 3, 2);
    expect(maxAbsDiff(k0!, k1!)).toBe(0);
    expect(maxAbsDiff(q0!, q1!)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(v0!, v1!)).toBeGreaterThan(1e-3);
    tf.dispose([y0, y1, q0!, k0!, v0!, q1!, k1!, v1!]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('ΔW equals the closed form per part, and the merged model gives the unmerged output', () => {
    const { layer } = lm.loraLayers()[0]!;
    const w = layer.weightsOf('default');
    const a = w.loraA.read().arraySync() as number[][];
    const b = w.loraB.read().arraySync() as number[][][];
    const s = 6 / 2;
    const expected = a.map((row) =>
      [0, 1, 2].flatMap((part) => {
        const j = part === 0 ? 0 : part === 2 ? 1 : -1;
        return [...Array(WIDTH).keys()].map((c) =>
          j < 0 ? 0 : s * [0, 1].reduce((acc, t) => acc + row[j * 2 + t]! * b[j]![t]![c]!, 0),
        );
      }),
    );
    const delta = layer.deltaWeight('default');
    const want = tf.tensor(expected);
    expect(maxAbsDiff(delta, want)).toBeLessThan(1e-5);
    const x = tf.randomNormal([2, 3, IN], 0, 1, 'float32', 5);
    const merged = lm.mergeAndUnload();
    const [y, ym] = [lm.model.predict(x) as tf.Tensor, merged.predict(x) as tf.Tensor];
    expect(maxAbsDiff(y, ym)).toBeLessThan(1e-5);
    tf.dispose([delta, want, x, y, ym]);
    merged.dispose();
  });

  it("converts to loralib's lora_A [k·r, in] / lora_B [k·width, r] and back exactly", () => {
    const { layer } = lm.loraLayers()[0]!;
    const w = layer.weightsOf('default');
    const peftB = tf.tidy(() => mergedDenseLayerKind.toPeft(layer.layer, 'loraB', w.loraB.read()));
    expect(peftB.shape).toEqual([2 * WIDTH, 2]);
    const b = w.loraB.read().arraySync() as number[][][];
    expect((peftB.arraySync() as number[][])[WIDTH + 1]).toEqual([b[1]![0]![1], b[1]![1]![1]]); // row width+1 = B_1ᵀ row 1
    const back = tf.tidy(() => mergedDenseLayerKind.fromPeft(layer.layer, 'loraB', peftB));
    expect(maxAbsDiff(back, w.loraB.read())).toBe(0);
    const peftA = tf.tidy(() => mergedDenseLayerKind.toPeft(layer.layer, 'loraA', w.loraA.read()));
    expect(peftA.shape).toEqual([4, IN]);
    tf.dispose([peftB, back, peftA]);
  });

  it('initialises like PEFT Linear per part (A kaiming, B zero) and supports PiSSA part by part', async () => {
    const fresh = applyLora(base, { r: 2, targetModules: ['qkv'] }, { seed: 9 });
    const w = fresh.loraLayers()[0]!.layer.weightsOf('default');
    expect(tf.tidy(() => tf.max(tf.abs(w.loraB.read())).dataSync()[0])).toBe(0);
    const bound = 1 / Math.sqrt(IN);
    expect(tf.tidy(() => tf.max(tf.abs(w.loraA.read())).dataSync()[0])).toBeLessThanOrEqual(bound);
    fresh.dispose();
    const pissa = await applyLora(base, { r: 2, targetModules: ['qkv'], initLoraWeights: 'pissa' });
    const x = tf.randomNormal([2, 3, IN], 0, 1, 'float32', 6);
    const [y0, y1] = [base.predict(x) as tf.Tensor, pissa.model.predict(x) as tf.Tensor];
    expect(maxAbsDiff(y0, y1)).toBeLessThan(1e-4); // W_res + A·B = W at init
    tf.dispose([x, y0, y1]);
    pissa.dispose();
  });

  it('round-trips through model.save, and rejects impossible configs with advice', async () => {
    let saved: tf.io.ModelArtifacts | undefined;
    await lm.model.save(
      tf.io.withSaveHandler(
        async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
      ),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomNormal([1, 3, IN], 0, 1, 'float32', 7);
    const [y, yl] = [lm.model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(maxAbsDiff(y, yl)).toBe(0);
    tf.dispose([x, y, yl]);
    loaded.dispose();
    expect(() => new MergedDense({ units: 10, enableLora: [true, false, true] })).toThrow(LoraConfigError);
    const none = model([false, false, false]);
    expect(() => applyLora(none, { r: 1, targetModules: ['qkv'] })).toThrow(/no part enabled/);
    none.dispose();
  });
});
