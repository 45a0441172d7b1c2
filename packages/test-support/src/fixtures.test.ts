// The fixtures are in the repository and read back as the generator wrote them.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  disposeCase,
  fixtureFiles,
  loadPeftCase,
  peftCaseNames,
  peftCasePath,
  peftRealPath,
  peftRealReference,
} from './index.js';

describe('fixtures', () => {
  it('holds every PEFT case and both peft-real adapters', () => {
    expect(peftCaseNames()).toEqual([
      'conv2d',
      'dora_conv2d',
      'dora_linear',
      'embedding',
      'linear',
      'linear_rslora',
      'mlp_patterns',
    ]);
    for (const name of ['gpt2-seqcls-c_attn', 'distilbert-emotion-q_v']) {
      expect(existsSync(join(peftRealPath(name), 'adapter_model.safetensors'))).toBe(true);
      expect(peftRealReference(name).modules).toHaveLength(12);
    }
    expect(fixtureFiles()).toHaveLength(7 * 3 + 2);
    expect(() => peftCasePath('nope')).toThrow(/PEFT case 'nope' not found .*generate-fixtures\.py/);
  });

  it('reads a case: PyTorch layouts, int64 ids as int32, DoRA conv magnitude as [1, out, 1, 1]', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const linear = loadPeftCase('linear');
    expect(linear.base['fc.weight']!.shape).toEqual([32, 16]);
    expect(linear.adapter['base_model.model.fc.lora_B.weight']!.shape).toEqual([32, 4]);
    expect(linear.adapterConfig['r']).toBe(4);
    disposeCase(linear);
    const emb = loadPeftCase('embedding');
    expect(emb.io['input']!.dtype).toBe('int32');
    expect(emb.io['input']!.shape).toEqual([3, 5]);
    disposeCase(emb);
    const dora = loadPeftCase('dora_conv2d');
    expect(dora.adapter['base_model.model.conv.lora_magnitude_vector']!.shape).toEqual([1, 5, 1, 1]);
    expect(dora.adapterConfig['use_dora']).toBe(true);
    disposeCase(dora);
    expect(tf.memory().numTensors).toBe(before);
  });
});
