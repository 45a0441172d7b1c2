// PEFT key names, adapter validation, and the module-path mapping rules.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromPeftJson, loraConfig } from '../config.js';
import { AdapterFormatError, LoraConfigError } from '../errors/index.js';
import { peftAdapter } from './adapter.js';
import { lowRankFrobeniusNorm } from './inspect.js';
import { classifyPeftKey, effectiveModulesToSave, factorKey } from './keys.js';
import { mapPeftModules, modelModuleAliases } from './module-map.js';

const cfg = loraConfig({ r: 2, targetModules: ['q'] });

function formatError(fn: () => unknown): AdapterFormatError {
  try {
    fn();
  } catch (e) {
    expect(AdapterFormatError.isInstance(e), String(e)).toBe(true);
    return e as AdapterFormatError;
  }
  throw new Error('expected an AdapterFormatError');
}

describe('PEFT keys', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('names factors as PEFT does', () => {
    expect(factorKey('a.q', 'lora_A')).toBe('base_model.model.a.q.lora_A.weight');
    expect(factorKey('emb', 'lora_embedding_B')).toBe('base_model.model.emb.lora_embedding_B');
  });

  it('classifies every kind of key PEFT writes', () => {
    const seqCls = fromPeftJson({
      peft_type: 'LORA',
      r: 2,
      target_modules: ['q'],
      task_type: 'SEQ_CLS',
      bias: 'all',
      modules_to_save: ['head'],
    });
    expect(effectiveModulesToSave(seqCls)).toEqual(['head', 'classifier', 'score']);
    const c = (k: string) => classifyPeftKey(`base_model.model.${k}`, seqCls);
    expect(c('enc.0.q.lora_A.weight')).toEqual({ role: 'loraA', path: 'enc.0.q', peftName: 'lora_A' });
    expect(c('emb.lora_embedding_B')).toEqual({ role: 'loraB', path: 'emb', peftName: 'lora_embedding_B' });
    expect(c('q.lora_magnitude_vector')).toEqual({ role: 'magnitude', path: 'q' });
    expect(c('q.lora_magnitude_vector.weight')).toEqual({ role: 'magnitude', path: 'q' }); // PEFT < 0.12
    expect(c('q.base_layer.bias')).toEqual({ role: 'base_layer', path: 'q', param: 'bias' });
    expect(c('score.weight')).toEqual({ role: 'modules_to_save', path: 'score', param: 'weight' });
    expect(c('roberta.classifier.dense.bias')).toEqual({
      role: 'modules_to_save',
      path: 'roberta.classifier.dense',
      param: 'bias',
    });
    expect(c('enc.norm.bias')).toEqual({ role: 'bias', path: 'enc.norm', param: 'bias' });
    expect(formatError(() => c('enc.norm.weight')).message).toMatch(
      /not a LoRA factor .* modules_to_save \(\["head","classifier","score"\]\)/,
    );
    expect(formatError(() => classifyPeftKey('model.q.lora_A.weight', cfg)).message).toMatch(
      /does not start with "base_model.model."/,
    );
  });

  it('validates an adapter: both factors, ranks against the config, DoRA magnitudes', () => {
    const t = (shape: number[]) => tf.zeros(shape);
    const A = 'base_model.model.q.lora_A.weight';
    const B = 'base_model.model.q.lora_B.weight';
    const cases: [Record<string, tf.Tensor>, RegExp, ReturnType<typeof loraConfig>?][] = [
      [{ [A]: t([2, 4]) }, /has base_model.model.q.lora_A.weight but no lora_B/],
      [{ [A]: t([3, 4]), [B]: t([5, 3]) }, /gives r = 2 .* has 3 rows/],
      [{ [A]: t([2, 4]), [B]: t([5, 3]) }, /same r/],
      [
        { [A]: t([2, 4]), [B]: t([5, 2]) },
        /use_dora is true but the file has no q.lora_magnitude_vector/,
        loraConfig({ r: 2, targetModules: ['q'], useDora: true }),
      ],
      [
        { [A]: t([2, 4]), [B]: t([5, 2]), 'base_model.model.q.lora_magnitude_vector': t([5]) },
        /DoRA magnitude .* but use_dora is false/,
      ],
      [{ [A]: t([2, 4]), 'base_model.model.q.lora_embedding_B': t([5, 2]) }, /no lora_B|mixes factor names/],
    ];
    for (const [tensors, message, config] of cases) {
      expect(formatError(() => peftAdapter({ config: config ?? cfg, tensors })).message).toMatch(message);
      tf.dispose(Object.values(tensors));
    }
    const ok = peftAdapter({ config: cfg, tensors: { [A]: t([2, 4]), [B]: t([5, 2]) } });
    expect(ok.modules[0]).toMatchObject({ path: 'q', kind: 'linear', r: 2, alpha: 8, scaling: 4 });
    ok.dispose();
  });

  it('computes ‖B·A‖ from Gram matrices as the explicit product does', () => {
    const a = tf.randomNormal([3, 7], 0, 1, 'float32', 1);
    const b = tf.randomNormal([5, 3], 0, 1, 'float32', 2);
    const direct = tf.tidy(() => tf.norm(tf.matMul(b, a)).dataSync()[0]!);
    expect(lowRankFrobeniusNorm(a.dataSync(), b.dataSync(), 3)).toBeCloseTo(direct, 4);
    tf.dispose([a, b]);
  });
});

describe('module mapping', () => {
  const layers = ['encoder_layer_0_q', 'encoder_layer_0_v', 'head', 'outer.fc'];

  it('matches exactly, then up to separators', () => {
    const m = mapPeftModules(['head', 'encoder.layer.0.q', 'outer/fc'], layers);
    expect([...m.layers]).toEqual([
      ['head', 'head'],
      ['encoder.layer.0.q', 'encoder_layer_0_q'],
      ['outer/fc', 'outer.fc'],
    ]);
  });

  it('uses a record or function first; null skips on purpose', () => {
    const m = mapPeftModules(['a.q', 'a.v', 'b'], layers, {
      moduleMap: (p) => (p === 'b' ? null : p === 'a.q' ? 'encoder_layer_0_q' : undefined),
      strict: false,
    });
    expect([...m.layers]).toEqual([['a.q', 'encoder_layer_0_q']]);
    expect(m.skipped).toEqual(['b', 'a.v']);
    expect(mapPeftModules(['x'], layers, { moduleMap: { x: 'head' } }).layers.get('x')).toBe('head');
  });

  it("uses the model's aliases after the default rule, first rule giving a layer wins", () => {
    const vit = ['vit.encoder.layer.0.attention.attention.query', 'vit.encoder.layer.0.output.dense', 'head'];
    const aliases = [
      ['(^|\\.)layers\\.(\\d+)\\.attention\\.q_proj$', '$1encoder.layer.$2.attention.attention.query'],
      ['(^|\\.)layers\\.(\\d+)\\.mlp\\.fc2$', '$1encoder.layer.$2.nothing'],
      ['(^|\\.)layers\\.(\\d+)\\.mlp\\.fc2$', '$1encoder.layer.$2.output.dense'],
    ] as const;
    const m = mapPeftModules(['vit.layers.0.attention.q_proj', 'vit.layers.0.mlp.fc2', 'head'], vit, {}, aliases);
    expect([...m.layers]).toEqual([
      ['vit.layers.0.attention.q_proj', 'vit.encoder.layer.0.attention.attention.query'],
      ['vit.layers.0.mlp.fc2', 'vit.encoder.layer.0.output.dense'],
      ['head', 'head'],
    ]);
    expect(() => mapPeftModules(['vit.layers.1.attention.q_proj'], vit, {}, aliases)).toThrow(/match no layer/);
    expect(modelModuleAliases({})).toEqual([]);
    expect(modelModuleAliases(undefined)).toEqual([]);
    expect(() => modelModuleAliases({ peftModuleAliases: [['a']] })).toThrow(/pattern, replacement/);
  });

  it('errors list the nearest layer names and what to do', () => {
    const err = (() => {
      try {
        mapPeftModules(['encoder.layer.0.k', 'decoder.out'], layers);
      } catch (e) {
        return e as LoraConfigError;
      }
    })();
    expect(LoraConfigError.isInstance(err)).toBe(true);
    expect(err!.message).toMatch(
      /2 adapter module\(s\) match no layer.*'encoder.layer.0.k' \(nearest: encoder_layer_0_q, encoder_layer_0_v/,
    );
    expect(err!.message).toMatch(/moduleMap.*strict: false/);
    expect(() => mapPeftModules(['a'], layers, { moduleMap: { a: 'nope' } })).toThrow(
      /not a layer of the model. Nearest layer names/,
    );
    expect(() => mapPeftModules(['a', 'b'], layers, { moduleMap: { a: 'head', b: 'head' } })).toThrow(
      /both map to layer 'head'/,
    );
    expect(() => mapPeftModules(['x.y'], ['x_y', 'x/y'])).toThrow(/matches several layers up to separators: x_y, x\/y/);
  });
});
