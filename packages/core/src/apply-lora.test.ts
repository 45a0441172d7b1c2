// The two ways to a LoraModel: applyLora (a config) and applyPeftAdapter (a loaded PEFT adapter), with
// applyLora(model, adapter) as the shortcut to the second. Reference: the adapter's own LoraModel.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLora, applyPeftAdapter } from './apply-lora.js';
import { LoraConfigError } from './errors/index.js';
import { decodePeftAdapter } from './peft/files.js';
import { encodePeftAdapter } from './peft/save.js';

function mlp(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        name: 'fc1',
        units: 7,
        activation: 'relu',
        inputShape: [5],
        kernelInitializer: 'glorotUniform',
      }),
      tfl.layers.dense({ name: 'head', units: 3 }),
    ],
  });
}

describe('applyPeftAdapter', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('loads a PEFT adapter as applyLora(model, adapter) does, and reports how it was read', () => {
    const before = tf.memory().numTensors;
    const base = mlp();
    const trained = applyLora(
      base,
      { r: 2, loraAlpha: 4, targetModules: ['fc1'], initLoraWeights: 'gaussian' },
      { seed: 1 },
    );
    const loraB = trained.loraLayers()[0]!.layer.weightsOf('default').loraB;
    tf.tidy(() => {
      loraB.write(tf.fill([2, 7], 0.25));
    });
    const adapter = decodePeftAdapter(encodePeftAdapter(trained));
    const x = tf.randomNormal([4, 5], 0, 1, 'float32', 2);

    const direct = applyPeftAdapter(base, adapter);
    const shortcut = applyLora(base, adapter);
    const [want, got, viaShortcut] = [trained, direct, shortcut].map((lm) => lm.model.predict(x) as tf.Tensor);
    expect(Array.from(got!.dataSync())).toEqual(Array.from(want!.dataSync()));
    expect(Array.from(viaShortcut!.dataSync())).toEqual(Array.from(want!.dataSync()));

    const report = direct.peftLoadReport('default')!;
    expect([...report.paths]).toEqual([['fc1', 'fc1']]);
    expect(report.skipped).toEqual([]);
    expect(direct.peftSource('default')).toBe(report); // the deprecated name gives the same report
    expect(trained.peftLoadReport('default')).toBeUndefined();

    tf.dispose([x, want!, got!, viaShortcut!]);
    [trained, direct, shortcut].forEach((lm) => lm.dispose());
    adapter.dispose();
    base.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names itself when given something that is not a LayersModel', () => {
    const notAModel = {} as tfl.LayersModel;
    expect(() => applyPeftAdapter(notAModel, { config: {}, tensors: {} } as never)).toThrow(LoraConfigError);
    expect(() => applyPeftAdapter(notAModel, { config: {}, tensors: {} } as never)).toThrow(
      /^applyPeftAdapter expects/,
    );
    expect(() => applyLora(notAModel, { r: 2 })).toThrow(/^applyLora expects one of: layers .*Pass a tf.LayersModel/);
  });
});
