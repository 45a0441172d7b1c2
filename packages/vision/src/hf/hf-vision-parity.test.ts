// Parity with transformers 5.18 / PEFT 0.21 (fixtures/hf/, scripts/make-hf-vision-fixtures.py): ViT outputs
// from loadPretrained within 1e-4 of PyTorch's on cpu and wasm, without an adapter and with a PEFT adapter
// whose B is not zero (init_lora_weights=False), merged and unmerged. Each adapter comes in two namings:
// adapter/ as PEFT wrote it under transformers 5 (vit.layers.0.attention.q_proj), adapter-v4/ the same
// tensors with keys renamed by the fixture script to transformers 4's names (vit.encoder.layer.0.attention.
// attention.query), as adapters on the Hub are; both load with no module map and give the same logits.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLora, loadPeftAdapter, loadPretrained } from '@tfjs-lora/core';
import { useModelAndReference } from '@tfjs-lora/test-support/hooks';
import { tryBackend } from '../../test-support/backend.js';
import { compareOutputs, hfFixture, readReference } from '../../test-support/hf-fixtures.js';
import '../register-on-import.js';

const TOL = 1e-4;
const wasmReason = await tryBackend('wasm');
await tf.setBackend('cpu');
if (wasmReason) console.warn(`SKIP Hugging Face ViT parity on wasm: ${wasmReason}`);

const BOTH_NAMINGS = ['adapter', 'adapter-v4'];
const cases = [
  {
    fixture: 'vit-cls',
    arch: 'ViTForImageClassification',
    layer: 'vit.encoder.layer.1.attention.attention.query',
    adapters: BOTH_NAMINGS,
    loraLayers: 6, // query, value, output.dense in 2 layers
  },
  {
    fixture: 'vit',
    arch: 'ViTModel',
    layer: 'encoder.layer.0.output.dense',
    adapters: BOTH_NAMINGS,
    loraLayers: 6,
  },
  {
    fixture: 'resnet-cls',
    arch: 'ResNetForImageClassification',
    layer: 'resnet.encoder.stages.1.layers.0.shortcut.convolution',
    adapters: ['adapter'], // transformers 5 kept ResNet's module names
    loraLayers: 11, // every Conv2D: the stem; 3 (stage 0 keeps 8 channels at stride 1: no shortcut); 3 + shortcut; 3
  },
];
const backends = [
  { backend: 'cpu' as const, skip: false },
  { backend: 'wasm' as const, skip: wasmReason !== null },
];

describe.each(backends)('Hugging Face ViT parity on $backend', ({ backend, skip }) => {
  beforeAll(async () => {
    if (!skip) await tf.setBackend(backend);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  describe.each(cases)('$arch ($fixture)', ({ fixture, arch, layer, adapters, loraLayers }) => {
    const loaded = useModelAndReference(
      skip,
      async () => (await loadPretrained(hfFixture(fixture))) as tfl.LayersModel,
      () => readReference(fixture),
    );

    it.skipIf(skip)('has the Hugging Face names and input, and gives transformers’ outputs', async () => {
      const { model, ref } = loaded;
      expect(model.name).toBe(arch);
      expect(model.getLayer(layer)).toBeDefined();
      expect(model.inputNames).toEqual(['pixel_values']);
      const before = tf.memory().numTensors;
      const diff = await compareOutputs(model.predict(ref['pixel_values']!), ref, 'logits');
      expect(tf.memory().numTensors).toBe(before);
      console.log(`${backend} ${fixture}: base max diff ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(TOL);
    });

    it.skipIf(skip).each(adapters)('applies the PEFT %s with no module map, unmerged and merged', async (dir) => {
      const { model, ref } = loaded;
      const before = tf.memory().numTensors;
      const adapter = await loadPeftAdapter(hfFixture(fixture, dir));
      const lora = applyLora(model, adapter);
      adapter.dispose();
      try {
        expect(lora.loraLayers().length).toBe(loraLayers);
        const x = ref['pixel_values']!;
        const unmerged = await compareOutputs(lora.model.predict(x) as tf.Tensor, ref, 'logits_lora');
        lora.merge();
        const merged = await compareOutputs(lora.model.predict(x) as tf.Tensor, ref, 'logits_merged');
        console.log(
          `${backend} ${fixture}/${dir}: unmerged ${unmerged.toExponential(2)}, merged ${merged.toExponential(2)}`,
        );
        expect(unmerged).toBeLessThan(TOL);
        expect(merged).toBeLessThan(TOL);
      } finally {
        lora.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});
