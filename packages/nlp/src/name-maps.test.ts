// PEFT name maps: a DistilBERT-sized adapter written by PEFT (@tfjs-lora/test-support:
// peft-real/distilbert-emotion-q_v, r=8, alpha=16 on q_lin/v_lin, classifier heads in modules_to_save) loads into a DistilBERT-shaped encoder built
// here and merges; every ΔW is recomputed independently from the raw file in float64.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLora, loadPeftAdapter, type LoraModel } from '@tfjs-lora/core';
import { maxAbsDiff, peftRealPath, readSafetensorsFile } from '@tfjs-lora/test-support';
import { peftModuleMap, peftPathToLayer } from './name-maps.js';
import { transformerClassifier } from './transformer.js';
import './register-on-import.js';

/** ΔW [in, out] = scaling · (B·A)ᵀ from PyTorch-layout factors, in float64. */
function deltaFromFile(a: tf.Tensor, b: tf.Tensor, scaling: number): Float32Array {
  const [r, inF] = a.shape as [number, number];
  const outF = b.shape[0]!;
  const av = a.dataSync();
  const bv = b.dataSync();
  const out = new Float32Array(inF * outF);
  for (let i = 0; i < inF; i++) {
    for (let o = 0; o < outF; o++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += bv[o * r + k]! * av[k * inF + i]!;
      out[i * outF + o] = scaling * s;
    }
  }
  return out;
}

describe('peftPathToLayer', () => {
  it.each([
    ['distilbert', 'distilbert.transformer.layer.3.attention.q_lin', 'h.3.attn.query'],
    ['distilbert', 'distilbert.transformer.layer.0.ffn.lin2', 'h.0.mlp.fc_out'],
    ['distilbert', 'pre_classifier', 'pre_classifier'],
    ['bert', 'bert.encoder.layer.11.attention.self.value', 'h.11.attn.value'],
    ['bert', 'bert.encoder.layer.2.attention.output.dense', 'h.2.attn.output'],
    ['bert', 'bert.encoder.layer.2.output.dense', 'h.2.mlp.fc_out'],
    ['gpt2', 'transformer.h.10.attn.c_attn', 'h.10.attn.qkv'],
    ['gpt2', 'transformer.h.1.mlp.c_proj', 'h.1.mlp.fc_out'],
    ['gpt2', 'score', 'score'],
  ] as const)('%s: %s → %s', (family, peft, layer) => {
    expect(peftPathToLayer(family, peft)).toBe(layer);
  });

  it('takes a block prefix and extra entries, and leaves unknown paths to the default rule', () => {
    expect(peftPathToLayer('bert', 'bert.encoder.layer.1.attention.self.query', { blockPrefix: 'enc' })).toBe(
      'enc.1.attn.query',
    );
    const map = peftModuleMap('gpt2', { extra: { score: 'classifier', 'transformer.wpe': null } }) as (
      p: string,
    ) => string | null | undefined;
    expect(map('score')).toBe('classifier');
    expect(map('transformer.wpe')).toBeNull();
    expect(map('something.else')).toBeUndefined();
  });
});

describe('DistilBERT-sized PEFT adapter (q_lin, v_lin) in a DistilBERT-shaped encoder', () => {
  let base: tfl.LayersModel;
  let lm: LoraModel;
  let file: Record<string, tf.Tensor>;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    base = transformerClassifier(
      { vocabSize: 64, maxLength: 16, width: 768, numHeads: 12, numLayers: 6, mlpDim: 3072, seed: 1 },
      { numClasses: 6, preClassifier: true, norm: 'post' },
    );
    const adapter = await loadPeftAdapter(peftRealPath('distilbert-emotion-q_v'));
    lm = applyLora(base, adapter, { moduleMap: peftModuleMap('distilbert') });
    adapter.dispose();
    file = readSafetensorsFile(join(peftRealPath('distilbert-emotion-q_v'), 'adapter_model.safetensors'));
  });

  afterAll(() => {
    lm.dispose();
    base.dispose();
    tf.dispose(Object.values(file));
  });

  it('lands q_lin/v_lin on h.<i>.attn.query/value and the heads as modules_to_save', () => {
    const paths = lm.loraLayers().map((l) => l.path);
    expect(paths).toEqual([0, 1, 2, 3, 4, 5].flatMap((i) => [`h.${i}.attn.query`, `h.${i}.attn.value`]));
    expect(lm.peftSource('default')!.paths.get('h.4.attn.value')).toBe(
      'distilbert.transformer.layer.4.attention.v_lin',
    );
    for (const head of ['pre_classifier', 'classifier']) {
      const [kernel, bias] = lm.model.getLayer(head).getWeights();
      const expected = tf.transpose(file[`base_model.model.${head}.weight`]!);
      expect(maxAbsDiff(kernel!, expected)).toBe(0);
      expect(maxAbsDiff(bias!, file[`base_model.model.${head}.bias`]!)).toBe(0);
      expected.dispose();
    }
  });

  it('merges: every ΔW equals 2·(B·A)ᵀ from the raw file, and merged output equals unmerged', () => {
    const merged = lm.mergeAndUnload();
    let worst = 0;
    for (const { path } of lm.loraLayers()) {
      const [, i, part] = /^h\.(\d+)\.attn\.(query|value)$/.exec(path)!;
      const key = `base_model.model.distilbert.transformer.layer.${i}.attention.${part === 'query' ? 'q_lin' : 'v_lin'}`;
      const expected = deltaFromFile(file[`${key}.lora_A.weight`]!, file[`${key}.lora_B.weight`]!, 16 / 8);
      const delta = tf.tidy(() => tf.sub(merged.getLayer(path).getWeights()[0]!, base.getLayer(path).getWeights()[0]!));
      const got = delta.dataSync();
      for (let j = 0; j < got.length; j++) worst = Math.max(worst, Math.abs(got[j]! - expected[j]!));
      delta.dispose();
    }
    expect(worst).toBeLessThan(1e-5);
    const ids = tf.tensor2d([[5, 9]], undefined, 'int32'); // short: the cpu backend is slow at width 768
    const [y, ym, y0] = [lm.model, merged, base].map((m) => m.predict(ids) as tf.Tensor);
    expect(maxAbsDiff(y!, ym!)).toBeLessThan(1e-5);
    expect(maxAbsDiff(y!, y0!)).toBeGreaterThan(1e-4); // the adapter and its trained heads change the prediction
    tf.dispose([ids, y!, ym!, y0!]);
    merged.dispose();
  });
});

describe('GPT-2-sized PEFT adapter (c_attn, fan_in_fan_out) in a GPT-2-shaped model', () => {
  it('maps c_attn onto the fused h.<i>.attn.qkv and score onto the head; ΔW = (B·A)ᵀ as PEFT merges it', async () => {
    await tf.setBackend('cpu');
    // Two GPT-2 blocks of the real width (the other ten adapted modules are skipped and reported).
    const withHead = transformerClassifier(
      { vocabSize: 32, maxLength: 16, width: 768, numHeads: 12, numLayers: 2, mlpDim: 64, qkv: 'fused', seed: 2 },
      { numClasses: 6, norm: 'pre' },
    );
    const dir = peftRealPath('gpt2-seqcls-c_attn');
    const adapter = await loadPeftAdapter(dir);
    const lm = applyLora(withHead, adapter, {
      moduleMap: peftModuleMap('gpt2', { extra: { score: 'classifier' }, model: withHead }),
      strict: false,
    });
    adapter.dispose();
    expect(lm.loraLayers().map((l) => l.path)).toEqual(['h.0.attn.qkv', 'h.1.attn.qkv']);
    expect(lm.peftSource('default')!.skipped).toHaveLength(10);
    const file = readSafetensorsFile(join(dir, 'adapter_model.safetensors'));
    for (const i of [0, 1]) {
      const key = `base_model.model.transformer.h.${i}.attn.c_attn`;
      const expected = deltaFromFile(file[`${key}.lora_A.weight`]!, file[`${key}.lora_B.weight`]!, 8 / 8);
      const delta = lm.loraLayers()[i]!.layer.deltaWeight('default');
      expect(delta.shape).toEqual([768, 2304]);
      const got = delta.dataSync() as Float32Array;
      expect(got.reduce((w, v, j) => Math.max(w, Math.abs(v - expected[j]!)), 0)).toBeLessThan(1e-5);
      delta.dispose();
    }
    const head = tf.transpose(file['base_model.model.score.weight']!);
    expect(maxAbsDiff(lm.model.getLayer('classifier').getWeights()[0]!, head)).toBe(0);
    tf.dispose([head, ...Object.values(file)]);
    lm.dispose();
    withHead.dispose();
  });
});
