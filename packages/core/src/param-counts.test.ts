// trainableParameters() must report what PEFT's get_nb_trainable_parameters() reports for the same
// architecture and config. The reference numbers were written by PEFT 0.21 (scripts/peft-param-counts.py).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromPeftJson, toPeftJson, loraConfig, type LoraConfigInput } from './config.js';
import { applyLora } from './apply-lora.js';

const reference = JSON.parse(
  readFileSync(new URL('../test-support/peft-param-counts.json', import.meta.url), 'utf8'),
) as Record<string, { config: Record<string, unknown>; trainable: number; total: number }>;

/** The PEFT script's Mlp: fc1 12→24, fc2 24→20, head 20→5. */
function mlp(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ name: 'fc1', units: 24, inputShape: [12] }),
      tfl.layers.dense({ name: 'fc2', units: 20, activation: 'relu' }),
      tfl.layers.dense({ name: 'head', units: 5 }),
    ],
  });
}

/** PEFT's snake_case config (as the script wrote it) to ours, through the PEFT JSON reader. */
function fromPython(cfg: Record<string, unknown>): LoraConfigInput {
  return fromPeftJson({ ...toPeftJson(loraConfig()), ...cfg });
}

describe('trainableParameters() equals PEFT get_nb_trainable_parameters()', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [name, ref] of Object.entries(reference)) {
    if (name === 'two_adapters') continue;
    it(name, async () => {
      const base = mlp();
      const lm = await applyLora(base, fromPython(ref.config));
      const { trainable, total, percent } = lm.trainableParameters();
      expect({ trainable, total }).toEqual({ trainable: ref.trainable, total: ref.total });
      expect(percent).toBeCloseTo((100 * ref.trainable) / ref.total, 10);
      lm.dispose();
      base.dispose();
    });
  }

  it('two_adapters (the added adapter is inactive: in total, not trainable)', async () => {
    const ref = reference['two_adapters'];
    const cfgs = ref.config as Record<string, Record<string, unknown>>;
    const base = mlp();
    const lm = await applyLora(base, fromPython(cfgs['default']));
    await lm.addAdapter('other', fromPython(cfgs['other']));
    expect(lm.trainableParameters()).toMatchObject({ trainable: ref.trainable, total: ref.total });
    lm.dispose();
    base.dispose();
  });
});
