// Models tfjs-layers cannot compute as Keras does are refused with every reason listed.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { ModelFormatError } from '@tfjs-lora/core';
import { strToU8, zipSync, unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKerasModel, UnsupportedKerasModelError } from './index.js';
import { kerasBytes } from '../test-support/fixtures.js';

/** The error `loadKerasModel` rejects with (fails the test when it resolves). */
async function refusal(bytes: Uint8Array): Promise<Error> {
  try {
    const model = await loadKerasModel(bytes);
    model.dispose();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected loadKerasModel to refuse the file');
}

/** A Keras layer entry of config.json, as far as these edits need. */
interface LayerEntry {
  class_name: string;
  config: Record<string, unknown>;
}

/** A fixture with its config.json edited (`layers`: the model's layer entries). */
function edited(name: string, edit: (config: { config: { layers: LayerEntry[] } }) => void): Uint8Array {
  const entries = unzipSync(kerasBytes(name));
  const config = JSON.parse(new TextDecoder().decode(entries['config.json']));
  edit(config);
  return zipSync({ ...entries, 'config.json': strToU8(JSON.stringify(config)) });
}

describe('refusing what tfjs-layers would compute differently', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const cases: [string, string, RegExp][] = [
    [
      'unsupported_mha',
      'MultiHeadAttention',
      /attention \(MultiHeadAttention\): tfjs-layers 4\.22 has no such layer class/,
    ],
    ['unsupported_gru_reset_after', 'GRU', /reset_after = true/],
    ['unsupported_conv_groups', 'Conv2D', /groups = 2/],
    ['unsupported_relu_slope', 'ReLU', /negative_slope = 0\.1/],
  ];
  for (const [fixture, className, reason] of cases) {
    it(`${fixture}: an UnsupportedKerasModelError naming ${className}`, async () => {
      const before = tf.memory().numTensors;
      const e = await refusal(kerasBytes(fixture));
      expect(UnsupportedKerasModelError.isInstance(e)).toBe(true);
      expect(ModelFormatError.isInstance(e)).toBe(true);
      expect(e.message).toMatch(reason);
      expect((e as UnsupportedKerasModelError).incompatibilities.map((p) => p.className)).toContain(className);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('lists every problem at once (a layer class, rms_scaling, quantization_config, hard_sigmoid)', async () => {
    const bytes = edited('layer_norm', (c) => {
      const layers = c.config.layers;
      layers[1]!.config['quantization_config'] = { mode: 'int8' };
      layers[2]!.config['rms_scaling'] = true;
      layers[3]!.config['activation'] = 'hard_sigmoid';
      layers[4]!.class_name = 'RMSNormalization';
    });
    const e = (await refusal(bytes)) as UnsupportedKerasModelError;
    expect(UnsupportedKerasModelError.isInstance(e)).toBe(true);
    expect(e.incompatibilities.map((p) => p.layer)).toEqual(['up', 'ln', 'down', 'ln2']);
    expect(e.message).toMatch(/quantization_config/);
    expect(e.message).toMatch(/rms_scaling = true/);
    expect(e.message).toMatch(/hard_sigmoid.*relu6\(x \+ 3\) \/ 6/);
    expect(e.message).toMatch(/ln2 \(RMSNormalization\)/);
  });

  it('a file that is not a .keras zip, or lacks its weights: a ModelFormatError saying what was expected', async () => {
    const notZip = await refusal(new TextEncoder().encode('{"not": "a zip"}'));
    expect(ModelFormatError.isInstance(notZip)).toBe(true);
    expect(notZip.message).toMatch(/expected a zip archive/);
    const entries = unzipSync(kerasBytes('layer_norm'));
    delete entries['model.weights.h5'];
    const noWeights = await refusal(zipSync(entries));
    expect(noWeights.message).toMatch(/lacks model\.weights\.h5/);
  });

  it('weights that do not fit the layer: the layer, the expected and the found shapes', async () => {
    const bytes = edited('layer_norm', (c) => {
      c.config.layers[3]!.config['units'] = 11; // 'down' now expects [16, 11]
      c.config.layers[4]!.config['axis'] = -1;
    });
    const before = tf.memory().numTensors;
    const e = await refusal(bytes);
    expect(e.message).toMatch(/layer down \(Dense\).*\[\[16,11\],\[11\]\].*\[\[16,10\],\[10\]\]/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
