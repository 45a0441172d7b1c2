import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  alphaFor,
  fromPeftJson,
  LORA_DEFAULTS,
  loraConfig,
  rankFor,
  scalingFor,
  toPeftJson,
  type LoraConfigInput,
} from './config.js';
import { LoraConfigError } from './errors/index.js';

import { FIXTURES_ROOT, peftCasePath } from '@tfjs-lora/test-support';

const FIXTURES = `${FIXTURES_ROOT}/`;

/** Every adapter_config.json under the repository's PEFT fixtures, by case name. */
function fixtureConfigs(): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  for (const [dir, file] of [
    ['peft-cases', 'adapter/adapter_config.json'],
    ['peft-real', 'adapter_config.json'],
  ]) {
    for (const name of readdirSync(`${FIXTURES}${dir}`)) {
      const path = `${FIXTURES}${dir}/${name}/${file}`;
      if (existsSync(path)) out.push([`${dir}/${name}`, JSON.parse(readFileSync(path, 'utf8'))]);
    }
  }
  return out;
}

function peftFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${peftCasePath(name)}/adapter/adapter_config.json`, 'utf8'));
}

/** Runs `fn`, asserting a LoraConfigError with `field` whose message contains every `parts`. */
function expectConfigError(fn: () => unknown, field: string, ...parts: string[]): LoraConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(LoraConfigError);
  expect(LoraConfigError.isInstance(caught)).toBe(true);
  const err = caught as LoraConfigError;
  expect(err.field).toBe(field);
  for (const part of parts) expect(err.message).toContain(part);
  return err;
}

describe('loraConfig defaults', () => {
  it("equals PEFT 0.21's LoraConfig() defaults", () => {
    // Values printed by PEFT 0.21: LoraConfig().to_dict()
    const c = loraConfig();
    expect(c).toEqual({
      r: 8,
      loraAlpha: 8,
      loraDropout: 0,
      bias: 'none',
      initLoraWeights: true,
      useRslora: false,
      useDora: false,
      rankPattern: {},
      alphaPattern: {},
      fanInFanOut: false,
      targetModules: null,
      excludeModules: null,
      modulesToSave: null,
      layersToTransform: null,
      layersPattern: null,
      extra: {},
    });
    expect({ ...LORA_DEFAULTS, extra: {} }).toEqual(c);
  });

  it('is frozen, including nested lists and records', () => {
    const c = loraConfig({ targetModules: ['a'], rankPattern: { a: 2 }, extra: { auto_mapping: { x: 1 } } });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.targetModules)).toBe(true);
    expect(Object.isFrozen(c.rankPattern)).toBe(true);
    expect(Object.isFrozen((c.extra as { auto_mapping: object }).auto_mapping)).toBe(true);
  });

  it('copies its inputs', () => {
    const targets = ['a'];
    const c = loraConfig({ targetModules: targets });
    targets.push('b');
    expect(c.targetModules).toEqual(['a']);
  });

  it('accepts every allowed value', () => {
    for (const init of [true, false, 'gaussian', 'pissa', 'pissa_niter_0', 'pissa_niter_16', 'olora'] as const) {
      expect(loraConfig({ initLoraWeights: init }).initLoraWeights).toBe(init);
    }
    for (const bias of ['none', 'all', 'lora_only'] as const) expect(loraConfig({ bias }).bias).toBe(bias);
    const c = loraConfig({
      r: 16,
      loraAlpha: -4,
      loraDropout: 0.5,
      targetModules: ['q', 'v'],
      excludeModules: /.*\.skip/,
      layersToTransform: [0, 2],
      layersPattern: 'layer',
      useDora: true,
      initLoraWeights: 'pissa',
      fanInFanOut: true,
      useRslora: true,
    });
    expect(c.loraAlpha).toBe(-4); // PEFT allows negative alpha
    expect(c.useDora && c.initLoraWeights === 'pissa').toBe(true); // PEFT allows DoRA with PiSSA
    expect(loraConfig({ targetModules: 'ALL-LINEAR' }).targetModules).toBe('ALL-LINEAR');
    expect(loraConfig({ targetModules: '(?P<n>q)_(?P=n)' }).targetModules).toBe('(?P<n>q)_(?P=n)');
    expect(loraConfig({ targetModules: /q/u }).targetModules).toEqual(/q/u);
    expect(loraConfig({ layersToTransform: 3, targetModules: ['q'] }).layersToTransform).toBe(3);
    expect(loraConfig({ layersPattern: [], targetModules: ['q'] }).layersPattern).toEqual([]); // empty: allowed alone, as in PEFT
  });
});

describe('loraConfig validation', () => {
  const cases: [string, LoraConfigInput, string, string][] = [
    ['r = 0', { r: 0 }, 'r', '0'],
    ['r not an integer', { r: 2.5 }, 'r', '2.5'],
    ['r a string', { r: '8' as unknown as number }, 'r', '"8"'],
    ['loraAlpha NaN', { loraAlpha: NaN }, 'loraAlpha', 'NaN'],
    ['loraAlpha Infinity', { loraAlpha: Infinity }, 'loraAlpha', 'Infinity'],
    ['loraAlpha 0', { loraAlpha: 0 }, 'loraAlpha', '0'],
    ['loraDropout 1', { loraDropout: 1 }, 'loraDropout', '1'],
    ['loraDropout negative', { loraDropout: -0.1 }, 'loraDropout', '-0.1'],
    ['bias unknown', { bias: 'some' as 'all' }, 'bias', '"some"'],
    ['useRslora not boolean', { useRslora: 1 as unknown as boolean }, 'useRslora', '1'],
    ['useDora not boolean', { useDora: 'yes' as unknown as boolean }, 'useDora', '"yes"'],
    ['fanInFanOut not boolean', { fanInFanOut: null as unknown as boolean }, 'fanInFanOut', 'null'],
    ['initLoraWeights unknown', { initLoraWeights: 'xavier' as 'olora' }, 'initLoraWeights', '"xavier"'],
    ['initLoraWeights loftq', { initLoraWeights: 'loftq' as 'olora' }, 'initLoraWeights', 'not implemented'],
    ['initLoraWeights eva', { initLoraWeights: 'eva' as 'olora' }, 'initLoraWeights', '"eva"'],
    [
      'pissa_niter not an integer',
      { initLoraWeights: 'pissa_niter_x' as 'olora' },
      'initLoraWeights',
      '"pissa_niter_x"',
    ],
    ['pissa_niter negative', { initLoraWeights: 'pissa_niter_-1' }, 'initLoraWeights', '"pissa_niter_-1"'],
    ['rankPattern value 0', { rankPattern: { fc: 0 } }, 'rankPattern', '{"fc":0}'],
    ['rankPattern value fractional', { rankPattern: { fc: 1.5 } }, 'rankPattern', '{"fc":1.5}'],
    ['rankPattern key bad regex', { rankPattern: { 'fc(': 2 } }, 'rankPattern', '"fc("'],
    ['rankPattern not an object', { rankPattern: [] as unknown as Record<string, number> }, 'rankPattern', '[]'],
    ['alphaPattern value 0', { alphaPattern: { fc: 0 } }, 'alphaPattern', '{"fc":0}'],
    ['alphaPattern value NaN', { alphaPattern: { fc: NaN } }, 'alphaPattern', 'fc'],
    ['layersToTransform negative', { targetModules: ['q'], layersToTransform: -1 }, 'layersToTransform', '-1'],
    [
      'layersToTransform fractional entry',
      { targetModules: ['q'], layersToTransform: [1, 1.5] },
      'layersToTransform',
      '[1,1.5]',
    ],
    ['targetModules bad regex', { targetModules: 'q[' }, 'targetModules', '"q["'],
    ['targetModules not a selector', { targetModules: 5 as unknown as string }, 'targetModules', '5'],
    [
      'targetModules list with a number',
      { targetModules: ['q', 1] as unknown as string[] },
      'targetModules',
      '["q",1]',
    ],
    ['targetModules RegExp with flags', { targetModules: /q/i }, 'targetModules', '/q/i'],
    ['excludeModules bad regex', { excludeModules: '(x' }, 'excludeModules', '"(x"'],
    ['modulesToSave a string', { modulesToSave: 'classifier' as unknown as string[] }, 'modulesToSave', '"classifier"'],
    ['modulesToSave bad regex', { modulesToSave: ['a)'] }, 'modulesToSave', '"a)"'],
    [
      'layersPattern bad regex',
      { targetModules: ['q'], layersToTransform: 0, layersPattern: '[' },
      'layersPattern',
      '"["',
    ],
    [
      'layersPattern a number',
      { targetModules: ['q'], layersToTransform: 0, layersPattern: 3 as unknown as string },
      'layersPattern',
      '3',
    ],
    [
      'layersPattern without layersToTransform',
      { targetModules: ['q'], layersPattern: 'layer' },
      'layersPattern',
      'layersToTransform',
    ],
    [
      'layersToTransform with a regex string target',
      { targetModules: '.*q', layersToTransform: [0] },
      'layersToTransform',
      '".*q"',
    ],
    [
      'layersToTransform with a RegExp target',
      { targetModules: /.*q/, layersToTransform: [0] },
      'layersToTransform',
      '/.*q/',
    ],
    [
      'layersToTransform with all-linear',
      { targetModules: 'all-linear', layersToTransform: [0] },
      'layersToTransform',
      'all-linear',
    ],
    [
      'layersPattern with a regex string target',
      { targetModules: '.*q', layersPattern: 'layer' },
      'layersPattern',
      '"layer"',
    ],
    ['extra holding an interpreted key', { extra: { lora_alpha: 3 } }, 'extra', 'loraAlpha'],
    ['extra holding peft_type', { extra: { peft_type: 'LORA' } }, 'extra', 'peft_type'],
    ['extra not an object', { extra: 'x' as unknown as Record<string, unknown> }, 'extra', '"x"'],
    ['extra holding a function', { extra: { f: () => 1 } }, 'extra', 'JSON'],
    ['extra turning on LoftQ', { extra: { loftq_config: { loftq_bits: 4 } } }, 'loftq_config', 'LoftQ'],
  ];
  it.each(cases)('rejects %s', (_, input, field, value) => {
    const err = expectConfigError(() => loraConfig(input), field, value);
    if (field !== 'extra' && field !== 'loftq_config') expect(err.message).toContain(`LoraConfig.${field}`);
    expect(err.message).toMatch(/must|not|found/);
  });

  it('rejects unknown keys, suggesting the camelCase name and listing the known ones', () => {
    const err = expectConfigError(
      () => loraConfig({ lora_alpha: 16 } as LoraConfigInput),
      'lora_alpha',
      '"lora_alpha"',
      'did you mean "loraAlpha"',
    );
    expect(err.message).toContain('Known options: r, loraAlpha, loraDropout, targetModules');
    expectConfigError(
      () => loraConfig({ targetModule: ['q'] } as LoraConfigInput),
      'targetModule',
      'did you mean "targetModules"',
    );
    expectConfigError(() => loraConfig({ rank: 4 } as LoraConfigInput), 'rank', '"rank"', 'did you mean "r"');
  });

  it('rejects a non-object input', () => {
    expectConfigError(() => loraConfig(7 as unknown as LoraConfigInput), '(input)', '7');
  });

  it('treats undefined fields as unset', () => {
    expect(loraConfig({ r: undefined, targetModules: undefined })).toEqual(loraConfig());
  });
});

describe('PEFT adapter_config.json', () => {
  const fixtures = fixtureConfigs();

  it('finds the fixtures', () => {
    expect(fixtures.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'peft-cases/linear',
        'peft-cases/mlp_patterns',
        'peft-cases/dora_linear',
        'peft-cases/dora_conv2d',
        'peft-real/gpt2-seqcls-c_attn',
        'peft-real/distilbert-emotion-q_v',
      ]),
    );
  });

  it.each(fixtures)('%s loads and round-trips unchanged', (_, json) => {
    const config = fromPeftJson(json);
    expect(config.r).toBe(json.r);
    expect(config.loraAlpha).toBe(json.lora_alpha);
    expect(config.targetModules).toEqual(json.target_modules);
    expect(toPeftJson(config)).toEqual(json);
    expect(toPeftJson(fromPeftJson(JSON.stringify(json)))).toEqual(json);
    expect(loraConfig(config)).toBe(config); // a resolved config passes through loraConfig unchanged
  });

  it('reads interpreted fields and keeps the rest in extra', () => {
    const real = fixtures.find(([n]) => n === 'peft-real/distilbert-emotion-q_v')![1];
    const c = fromPeftJson(real);
    expect(c.modulesToSave).toEqual(['pre_classifier', 'classifier', 'classifier', 'score']);
    expect(c.loraDropout).toBe(0.1);
    expect(c.extra.task_type).toBe('SEQ_CLS');
    expect(c.extra.peft_version).toBe('0.21.0'); // the generator's PEFT
    expect(c.extra).not.toHaveProperty('lora_alpha');
    expect(c.extra).not.toHaveProperty('peft_type');
    expect(fromPeftJson(peftFixture('dora_linear')).useDora).toBe(true);
    expect(fromPeftJson(peftFixture('linear_rslora')).useRslora).toBe(true);
    const gpt2 = fixtures.find(([n]) => n === 'peft-real/gpt2-seqcls-c_attn')![1];
    expect(fromPeftJson(gpt2).fanInFanOut).toBe(true);
  });

  it('writes a fresh config with every interpreted key, extra and peft_type LORA, RegExp as its source', () => {
    const json = toPeftJson(loraConfig({ targetModules: /.*\.(q|v)/, extra: { task_type: 'CAUSAL_LM' } }));
    expect(json).toEqual({
      alpha_pattern: {},
      bias: 'none',
      exclude_modules: null,
      fan_in_fan_out: false,
      init_lora_weights: true,
      layers_pattern: null,
      layers_to_transform: null,
      lora_alpha: 8,
      lora_dropout: 0,
      modules_to_save: null,
      peft_type: 'LORA',
      r: 8,
      rank_pattern: {},
      target_modules: '.*\\.(q|v)',
      task_type: 'CAUSAL_LM',
      use_dora: false,
      use_rslora: false,
    });
    expect(Object.keys(json)).toEqual(Object.keys(json).sort());
    expect(fromPeftJson(json).targetModules).toBe('.*\\.(q|v)');
  });

  it('keeps keys a file left out out, and patterns a file wrote as null null', () => {
    const json = { peft_type: 'LORA', r: 4, target_modules: ['fc'], rank_pattern: null };
    const c = fromPeftJson(json);
    expect(c.rankPattern).toEqual({});
    expect(c.loraAlpha).toBe(8);
    expect(toPeftJson(c)).toEqual(json);
    expect(toPeftJson(fromPeftJson({ r: 4 }))).toEqual({ r: 4 }); // no peft_type written if none was read
    // a copy is a fresh config: it is validated and written in full
    expect(toPeftJson({ ...c })).toMatchObject({ lora_alpha: 8, rank_pattern: {}, peft_type: 'LORA' });
  });

  it('validates hand-built configs before writing them', () => {
    expectConfigError(() => toPeftJson({ ...loraConfig(), r: -1 }), 'r', '-1');
  });

  it('names the snake_case key in messages about a file', () => {
    expectConfigError(
      () => fromPeftJson({ ...peftFixture('linear'), lora_dropout: 2 }),
      'loraDropout',
      '"lora_dropout" in adapter_config.json',
      '2',
    );
    expectConfigError(() => fromPeftJson({ ...peftFixture('linear'), r: 0 }), 'r', '"r" in adapter_config.json');
  });

  it('rejects peft_type other than LORA, bad JSON and non-objects', () => {
    expectConfigError(() => fromPeftJson({ ...peftFixture('linear'), peft_type: 'IA3' }), 'peft_type', '"IA3"', 'LORA');
    expect(() => fromPeftJson('{not json')).toThrow(LoraConfigError);
    expect(() => fromPeftJson('[1]')).toThrow(/JSON object; found \[1\]/);
    expect(() => fromPeftJson(null)).toThrow(LoraConfigError);
  });

  const refused: [string, unknown, string][] = [
    ['loftq_config', { loftq_bits: 4, loftq_iter: 1 }, 'LoftQ'],
    ['use_qalora', true, 'QALoRA'],
    [
      'layer_replication',
      [
        [0, 4],
        [2, 5],
      ],
      'layer replication',
    ],
    ['trainable_token_indices', [1, 2], 'trainable tokens'],
    ['target_parameters', ['experts.weight'], 'target_parameters'],
    ['eva_config', { rho: 2 }, 'eva_config'],
    ['corda_config', { cache_file: 'x' }, 'corda_config'],
    ['arrow_config', { top_k: 3 }, 'arrow_config'],
    ['lora_ga_config', { bsz: 2 }, 'lora_ga_config'],
    ['some_future_config', { x: 1 }, 'some_future_config'],
    ['alora_invocation_tokens', [5, 6], 'aLoRA'],
    ['use_bdlora', { block: 2 }, 'BD-LoRA'],
    ['lora_bias', true, 'lora_bias'],
  ];
  it.each(refused)('refuses %s = %j', (key, value, feature) => {
    expectConfigError(
      () => fromPeftJson({ ...peftFixture('linear'), [key]: value }),
      key,
      `"${key}"`,
      feature,
      'does not implement',
    );
  });

  it.each(['loftq', 'eva', 'corda', 'orthogonal', 'mica', 'lora_ga', 'bogus'])(
    'refuses init_lora_weights %j',
    (init) => {
      expectConfigError(
        () => fromPeftJson({ ...peftFixture('linear'), init_lora_weights: init }),
        'initLoraWeights',
        `"${init}"`,
        '"init_lora_weights"',
      );
    },
  );

  it('keeps megatron_config and other unknown fields in extra', () => {
    const json = { ...peftFixture('linear'), megatron_config: { tp: 2 }, made_up_field: [1, { a: 2 }] };
    const c = fromPeftJson(json);
    expect(c.extra.megatron_config).toEqual({ tp: 2 });
    expect(toPeftJson(c)).toEqual(json);
  });
});

describe('scaling and patterns', () => {
  it('scalingFor is alpha / r, or alpha / sqrt(r) with rslora', () => {
    expect(scalingFor(8, 16, false)).toBe(2);
    expect(scalingFor(16, 16, true)).toBe(4);
    expect(scalingFor(4, 8, true)).toBe(4);
    expectConfigError(() => scalingFor(0, 8, false), 'r', '0');
  });

  it('reads the mlp_patterns fixture as PEFT does: fc2 rank 2, fc1 alpha 12', () => {
    const c = fromPeftJson(peftFixture('mlp_patterns'));
    expect(c.rankPattern).toEqual({ fc2: 2 });
    expect(c.alphaPattern).toEqual({ fc1: 12 });
    expect([
      rankFor(c, 'fc1'),
      alphaFor(c, 'fc1'),
      scalingFor(rankFor(c, 'fc1'), alphaFor(c, 'fc1'), c.useRslora),
    ]).toEqual([4, 12, 3]);
    expect([
      rankFor(c, 'fc2'),
      alphaFor(c, 'fc2'),
      scalingFor(rankFor(c, 'fc2'), alphaFor(c, 'fc2'), c.useRslora),
    ]).toEqual([2, 4, 2]);
    expect([rankFor(c, 'out'), alphaFor(c, 'out')]).toEqual([4, 4]);
  });

  it("matches keys like PEFT's get_pattern_key: whole path or dotted suffix, as a regex, first key wins", () => {
    const c = loraConfig({
      r: 8,
      loraAlpha: 16,
      rankPattern: { fc: 2, 'layers\\.0\\.q': 3, 'layers\\.\\d+\\.q': 5, 'layers.1.k': 7 },
      alphaPattern: { 'enc.*\\.v': 32 },
    });
    expect(rankFor(c, 'mlp.fc')).toBe(2);
    expect(rankFor(c, 'fc')).toBe(2);
    expect(rankFor(c, 'mlp.fc2')).toBe(8); // 'fc' must reach the end of the path
    expect(rankFor(c, 'mlp.xfc')).toBe(8); // and start after a '.'
    expect(rankFor(c, 'block_fc')).toBe(8); // '_' is not a separator here, as in PEFT
    expect(rankFor(c, 'model.layers.0.q')).toBe(3); // first matching key in key order
    expect(rankFor(c, 'model.layers.12.q')).toBe(5);
    expect(rankFor(c, 'model.layers.1.k')).toBe(7);
    expect(alphaFor(c, 'encoder.layer.3.v')).toBe(32);
    expect(alphaFor(c, 'decoder.layer.3.v')).toBe(16);
  });
});
