import { describe, expect, it } from 'vitest';
import { loraConfig, type LoraConfigInput } from '../config.js';
import { LoraConfigError } from '../errors/index.js';
import { closestNames, fullMatch, isAllLinear, matchesModuleToSave, matchesSelector } from './patterns.js';
import { layerIndexOf, selectTargets, type LayerInfo } from './targets.js';

const dense = (path: string, isOutput = false): LayerInfo => ({ path, className: 'Dense', isOutput });
const other = (path: string, className: string): LayerInfo => ({ path, className, isOutput: false });

/** A small BERT-like model seen through tfjs: nested model paths plus tfjs-style '_' names. */
const LAYERS: LayerInfo[] = [
  other('embed', 'Embedding'),
  dense('encoder.layer.0.q'),
  dense('encoder.layer.0.v'),
  dense('encoder.layer.1.q'),
  dense('encoder.layer.1.v'),
  dense('encoder.layer.2.q'),
  dense('encoder.layer.2.v'),
  other('block_3_expand', 'Conv2D'),
  other('block_4_expand', 'Conv2D'),
  dense('pre_classifier'),
  dense('classifier', true),
];

const select = (input: LoraConfigInput): string[] => selectTargets(loraConfig(input), LAYERS).map((l) => l.path);

function configError(fn: () => unknown): LoraConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LoraConfigError);
    return e as LoraConfigError;
  }
  throw new Error('expected a LoraConfigError');
}

describe('matchesSelector', () => {
  it('list entries match exactly or as a dotted suffix', () => {
    expect(matchesSelector(['q'], 'q')).toBe(true);
    expect(matchesSelector(['q'], 'encoder.layer.0.q')).toBe(true);
    expect(matchesSelector(['layer.0.q'], 'encoder.layer.0.q')).toBe(true);
    expect(matchesSelector(['q'], 'encoder.layer.0.xq')).toBe(false);
    expect(matchesSelector(['q'], 'block_q')).toBe(false);
    expect(matchesSelector(['q'], 'q.inner')).toBe(false);
    expect(matchesSelector([], 'q')).toBe(false);
  });

  it('a string is a regex that must match the whole path (re.fullmatch, not re.search)', () => {
    expect(matchesSelector('.*\\.q', 'encoder.layer.0.q')).toBe(true);
    expect(matchesSelector('q', 'encoder.layer.0.q')).toBe(false);
    expect(matchesSelector('encoder', 'encoder.layer.0.q')).toBe(false);
    expect(matchesSelector('q|v', 'v')).toBe(true); // alternation is grouped before anchoring
    expect(matchesSelector('q|v', 'vv')).toBe(false);
    expect(matchesSelector('block_\\d+_expand', 'block_3_expand')).toBe(true);
    expect(matchesSelector('(?P<x>q)\\.(?P=x)', 'q.q')).toBe(true); // Python named groups
  });

  it('a RegExp must match the whole path too', () => {
    expect(matchesSelector(/.*\.(q|v)/, 'encoder.layer.0.v')).toBe(true);
    expect(matchesSelector(/q/, 'encoder.layer.0.q')).toBe(false);
    expect(matchesSelector(/q|v/, 'v')).toBe(true);
    expect(matchesSelector(/Q/u, 'Q')).toBe(true);
  });

  it("'all-linear' is recognised in any case but is only a regex to matchesSelector", () => {
    expect(isAllLinear('All-Linear')).toBe(true);
    expect(isAllLinear(['all-linear'])).toBe(false);
    expect(matchesSelector('all-linear', 'dense')).toBe(false);
    expect(fullMatch('all-linear', 'all-linear')).toBe(true);
  });

  it('modules_to_save names match a layer and everything inside it', () => {
    expect(matchesModuleToSave('classifier', 'classifier')).toBe(true);
    expect(matchesModuleToSave('classifier', 'head.classifier')).toBe(true);
    expect(matchesModuleToSave('classifier', 'classifier.dense')).toBe(true);
    expect(matchesModuleToSave('classifier', 'pre_classifier')).toBe(false);
  });
});

describe('layerIndexOf', () => {
  it('with no pattern: the first all-digit component after the first, split at . _ /', () => {
    expect(layerIndexOf('block_3_expand', null)).toBe(3);
    expect(layerIndexOf('encoder.layer.2.q', null)).toBe(2);
    expect(layerIndexOf('model/layers/11/mlp', null)).toBe(11);
    expect(layerIndexOf('layers.1.experts.0.w', null)).toBe(1); // the first index, not the expert index
    expect(layerIndexOf('dense_7', '')).toBe(7);
    expect(layerIndexOf('dense_Dense1', [])).toBeNull();
    expect(layerIndexOf('3_dense', null)).toBeNull();
    expect(layerIndexOf('q', null)).toBeNull();
  });

  it('with a pattern: the number right after a component matching it', () => {
    expect(layerIndexOf('encoder.layer.2.q', 'layer')).toBe(2);
    expect(layerIndexOf('encoder.layer.2.q', 'encoder')).toBeNull(); // 'layer' follows, not a number
    expect(layerIndexOf('stage_1.block_3_expand', 'block')).toBe(3);
    expect(layerIndexOf('stage_1.block_3_expand', ['blocks', 'block'])).toBe(3);
    expect(layerIndexOf('stage_1.block_3_expand', 'stage|block')).toBe(1);
    expect(layerIndexOf('h.4.attn', 'h')).toBe(4);
    expect(layerIndexOf('x.layers.1.attn.layer.5.q', 'layer')).toBe(5); // whole components only
    expect(layerIndexOf('encoder.layer.2.q', 'lay')).toBeNull();
  });

  it('rejects a pattern that does not compile', () => {
    const err = configError(() => layerIndexOf('a.1', '('));
    expect(err.field).toBe('layersPattern');
    expect(err.message).toContain('"("');
  });
});

describe('closestNames', () => {
  it('orders candidates by edit distance, counting a dotted path by its last component', () => {
    expect(closestNames('q_proj', ['embed', 'encoder.layer.0.q_lin', 'k_proj', 'v_proj'], 2)).toEqual([
      'k_proj',
      'v_proj',
    ]);
    expect(closestNames('Q_LIN', ['encoder.layer.0.q_lin', 'x'], 1)).toEqual(['encoder.layer.0.q_lin']);
    expect(closestNames('a', ['b', 'b', 'c'])).toEqual(['b', 'c']);
    expect(closestNames('a', ['b'], 0)).toEqual([]);
  });
});

describe('selectTargets', () => {
  it('exact names and dotted suffixes, in model order', () => {
    expect(select({ targetModules: ['v', 'q'] })).toEqual([
      'encoder.layer.0.q',
      'encoder.layer.0.v',
      'encoder.layer.1.q',
      'encoder.layer.1.v',
      'encoder.layer.2.q',
      'encoder.layer.2.v',
    ]);
    expect(select({ targetModules: ['layer.1.q', 'pre_classifier'] })).toEqual(['encoder.layer.1.q', 'pre_classifier']);
    expect(select({ targetModules: ['block_3_expand'] })).toEqual(['block_3_expand']);
  });

  it('a regex string must match the whole path', () => {
    expect(select({ targetModules: 'encoder\\.layer\\.[01]\\.q' })).toEqual(['encoder.layer.0.q', 'encoder.layer.1.q']);
    expect(select({ targetModules: 'block_\\d+_expand' })).toEqual(['block_3_expand', 'block_4_expand']);
    // re.search would find 'q' inside the paths; re.fullmatch does not
    expect(configError(() => select({ targetModules: 'q' })).field).toBe('targetModules');
  });

  it('a RegExp must match the whole path', () => {
    expect(select({ targetModules: /.*\.2\.(q|v)/ })).toEqual(['encoder.layer.2.q', 'encoder.layer.2.v']);
  });

  it("'all-linear' takes every Dense layer that is not a model output", () => {
    const picked = select({ targetModules: 'all-linear' });
    expect(picked).toContain('pre_classifier');
    expect(picked).not.toContain('classifier');
    expect(picked).not.toContain('embed');
    expect(picked).not.toContain('block_3_expand');
    expect(picked).toHaveLength(7);
  });

  it('excludeModules and modulesToSave remove layers', () => {
    expect(select({ targetModules: 'all-linear', excludeModules: ['q', 'v'] })).toEqual(['pre_classifier']);
    expect(select({ targetModules: ['q'], excludeModules: 'encoder\\.layer\\.[12]\\.q' })).toEqual([
      'encoder.layer.0.q',
    ]);
    expect(select({ targetModules: ['q'], excludeModules: /.*0\.q/ })).toHaveLength(2);
    expect(select({ targetModules: ['q', 'pre_classifier'], modulesToSave: ['pre_classifier'] })).toHaveLength(3);
  });

  it('layersToTransform keeps the layers with those indexes', () => {
    expect(select({ targetModules: ['q', 'v'], layersToTransform: 1 })).toEqual([
      'encoder.layer.1.q',
      'encoder.layer.1.v',
    ]);
    expect(select({ targetModules: ['q'], layersToTransform: [0, 2], layersPattern: 'layer' })).toEqual([
      'encoder.layer.0.q',
      'encoder.layer.2.q',
    ]);
    expect(select({ targetModules: ['block_3_expand', 'block_4_expand'], layersToTransform: [4] })).toEqual([
      'block_4_expand',
    ]);
    expect(select({ targetModules: ['q'], layersToTransform: [] })).toHaveLength(3); // [] means every layer, as in PEFT
  });

  it('asks for targetModules when it is null, listing the layers', () => {
    const err = configError(() => select({}));
    expect(err.field).toBe('targetModules');
    expect(err.message).toContain('targetModules is null');
    expect(err.message).toContain('encoder.layer.0.q (Dense)');
  });

  it('lists the existing layers and the closest names when nothing matches', () => {
    const err = configError(() => select({ targetModules: ['q_proj', 'v_proj'] }));
    expect(err.field).toBe('targetModules');
    expect(err.message).toContain('["q_proj","v_proj"] matched none');
    expect(err.message).toContain('embed (Embedding)');
    expect(err.message).toContain('classifier (Dense, output)');
    expect(err.message).toContain('block_3_expand (Conv2D)');
    expect(err.message).toMatch(/"q_proj" → encoder\.layer\.0\.q, /);
    expect(err.message).toContain('dotted suffix');
  });

  it('explains an all-linear target on a model without hidden Dense layers', () => {
    const err = configError(() =>
      selectTargets(loraConfig({ targetModules: 'all-linear' }), [other('c', 'Conv2D'), dense('out', true)]),
    );
    expect(err.field).toBe('targetModules');
    expect(err.message).toContain('c (Conv2D), out (Dense, output)');
    expect(configError(() => selectTargets(loraConfig({ targetModules: ['a'] }), [])).message).toContain('no layers');
  });

  it('caps the layer listing of a large model', () => {
    const many = Array.from({ length: 100 }, (_, i) => dense(`d${i}`));
    expect(configError(() => selectTargets(loraConfig({ targetModules: ['x'] }), many)).message).toContain(
      '… and 60 more',
    );
  });

  it('names the setting that removed every matched layer', () => {
    const cases: [LoraConfigInput, string, string][] = [
      [{ targetModules: ['q'], excludeModules: ['q'] }, 'excludeModules', 'excludes all'],
      [
        { targetModules: ['pre_classifier'], modulesToSave: ['pre_classifier'] },
        'modulesToSave',
        'modulesToSave ["pre_classifier"]',
      ],
      [{ targetModules: ['q'], layersToTransform: 7 }, 'layersToTransform', 'encoder.layer.0.q → 0'],
      [{ targetModules: ['pre_classifier'], layersToTransform: 0 }, 'layersToTransform', 'pre_classifier → no index'],
    ];
    for (const [input, field, text] of cases) {
      const err = configError(() => select(input));
      expect(err.field).toBe(field);
      expect(err.message).toContain(text);
    }
  });
});
