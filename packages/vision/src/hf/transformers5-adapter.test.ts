// vitAdapterForTransformers5: the names it writes are the ones PEFT itself writes under transformers 5
// (fixtures/hf/vit-cls/adapter/, saved by PEFT 0.21 under transformers 5.18), the tensors are unchanged, and
// PEFT loads its output as saved (js-adapter-t5/, checked by scripts/check-js-vit-adapter.py; its logits are
// compared in hf-vision-train.test.ts).
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { parseSafetensors } from '@tfjs-lora/core/safetensors';
import { hfFixture } from '../../test-support/hf-fixtures.js';
import { vitAdapterForTransformers5, vitTransformers5Name } from './transformers5-adapter.js';

async function files(dir: string): Promise<{ config: string; weights: Uint8Array }> {
  return {
    config: await readFile(hfFixture('vit-cls', dir, 'adapter_config.json'), 'utf8'),
    weights: new Uint8Array(await readFile(hfFixture('vit-cls', dir, 'adapter_model.safetensors'))),
  };
}

it('renames a transformers 4 adapter to the keys PEFT writes under transformers 5, tensors unchanged', async () => {
  const v4 = await files('adapter-v4'); // PEFT's transformers 5 adapter with keys renamed to transformers 4's
  const peft5 = await files('adapter');
  const out = vitAdapterForTransformers5(v4);
  const [renamed, reference] = [parseSafetensors(out.weights), parseSafetensors(peft5.weights)];
  expect(renamed.tensors.map((t) => t.name).sort()).toEqual(reference.tensors.map((t) => t.name).sort());
  for (const t of renamed.tensors) {
    const r = reference.tensors.find((x) => x.name === t.name)!;
    expect(t.dtype).toBe(r.dtype);
    expect(t.shape).toEqual(r.shape);
    expect(Buffer.from(t.bytes).equals(Buffer.from(r.bytes))).toBe(true);
  }
  expect(out.config['target_modules']).toEqual([
    'vit.layers.0.attention.q_proj',
    'vit.layers.0.attention.v_proj',
    'vit.layers.0.mlp.fc2',
    'vit.layers.1.attention.q_proj',
    'vit.layers.1.attention.v_proj',
    'vit.layers.1.mlp.fc2',
  ]);
  expect(out.config['modules_to_save']).toEqual(['classifier']);
});

it('maps each transformers 4 module name as transformers 5.18 does', () => {
  expect(vitTransformers5Name('vit.encoder.layer.3.attention.attention.key')).toBe('vit.layers.3.attention.k_proj');
  expect(vitTransformers5Name('vit.encoder.layer.0.attention.output.dense')).toBe('vit.layers.0.attention.o_proj');
  expect(vitTransformers5Name('encoder.layer.1.intermediate.dense')).toBe('layers.1.mlp.fc1');
  expect(vitTransformers5Name('encoder.layer.1.output.dense')).toBe('layers.1.mlp.fc2');
  expect(vitTransformers5Name('vit.encoder.layer.1.layernorm_before')).toBe('vit.layers.1.layernorm_before');
  expect(vitTransformers5Name('classifier')).toBe('classifier');
});

it('refuses bytes that are not safetensors', () => {
  expect(() => vitAdapterForTransformers5({ config: {}, weights: new Uint8Array([1, 2, 3]) })).toThrow(
    /not a safetensors file/,
  );
});
