// convertKerasConfig on hand-written Keras 3 configs: the rewrites and refusals the fixtures do not reach.
import { describe, expect, it } from 'vitest';
import { convertKerasConfig, UnsupportedKerasModelError } from './index.js';

const policy = (name: string) => ({
  module: 'keras',
  class_name: 'DTypePolicy',
  config: { name },
  registered_name: null,
});

function sequential(...layers: { class_name: string; config: Record<string, unknown> }[]) {
  return {
    class_name: 'Sequential',
    config: {
      name: 's',
      layers: [
        { class_name: 'InputLayer', config: { batch_shape: [null, 4], dtype: 'float32', name: 'in' } },
        ...layers,
      ],
    },
  };
}

function refusals(config: Record<string, unknown>): string[] {
  try {
    convertKerasConfig(config);
  } catch (e) {
    if (UnsupportedKerasModelError.isInstance(e)) return e.incompatibilities.map((p) => `${p.layer}: ${p.reason}`);
    throw e;
  }
  return [];
}

describe('convertKerasConfig', () => {
  it('LeakyReLU negative_slope → alpha; mixed_float16 → float32; silu → swish; the InputLayer becomes batch_input_shape', () => {
    const out = convertKerasConfig(
      sequential(
        { class_name: 'Dense', config: { name: 'd', units: 3, activation: 'silu', dtype: policy('mixed_float16') } },
        { class_name: 'LeakyReLU', config: { name: 'lr', negative_slope: 0.2, dtype: policy('float32') } },
      ),
    ) as { class_name: string; config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    expect(out.class_name).toBe('Sequential');
    const [dense, leaky] = out.config.layers;
    expect(dense!.config).toMatchObject({ batch_input_shape: [null, 4], dtype: 'float32', activation: 'swish' });
    expect(leaky!.config).toMatchObject({ alpha: 0.2, dtype: 'float32' });
    expect(leaky!.config).not.toHaveProperty('negative_slope');
  });

  it('refuses options tfjs-layers ignores: output_padding, renorm, keepdims; accepts their defaults', () => {
    expect(
      refusals(
        sequential(
          { class_name: 'Conv2DTranspose', config: { name: 'up', filters: 2, kernel_size: 3, output_padding: [1, 1] } },
          { class_name: 'BatchNormalization', config: { name: 'bn', renorm: true } },
          { class_name: 'GlobalAveragePooling2D', config: { name: 'gap', keepdims: true } },
        ),
      ),
    ).toEqual([
      'up: output_padding = [1,1] (tfjs-layers ignores output_padding; only null loads)',
      'bn: renorm = true (tfjs-layers ignores renorm; only false loads)',
      'gap: keepdims = true (tfjs-layers ignores keepdims; only false loads)',
    ]);
    expect(
      refusals(
        sequential(
          { class_name: 'Conv2DTranspose', config: { name: 'up', filters: 2, kernel_size: 3, output_padding: null } },
          { class_name: 'BatchNormalization', config: { name: 'bn', renorm: false } },
        ),
      ),
    ).toEqual([]);
  });

  it('a subclassed model (no functional config) is a ModelFormatError saying what to do', () => {
    expect(() => convertKerasConfig({ class_name: 'MyModel', config: {} })).toThrow(/Subclassed models .* functional/);
  });
});
