// The Dense PEFT reference cases (@tfjs-lora/test-support: peft-cases): outputs, gradients and merged weights
// computed by Hugging Face PEFT 0.21 on PyTorch must be reproduced within 1e-5.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeCase, loadPeftCase, maxAbsDiff, type PeftCase } from '@tfjs-lora/test-support';
import { fromPeftJson } from './config.js';
import { applyLora } from './apply-lora.js';
import type { LoraModel } from './lora-model.js';

const DENSE_CASES = ['linear', 'linear_rslora', 'mlp_patterns', 'dora_linear'];
const TOL = 1e-5;

/** Builds the case's architecture in tfjs with PEFT's base weights (Linear [out,in] → Dense [in,out]). */
function buildBase(c: PeftCase): tfl.LayersModel {
  const layers = c.spec.layers;
  const model = tfl.sequential();
  layers.forEach((l, i) => {
    model.add(
      tfl.layers.dense({
        name: l.name,
        units: l.out_features!,
        useBias: l.bias !== false,
        activation: c.name === 'mlp_patterns' && i < layers.length - 1 ? 'relu' : 'linear',
        ...(i === 0 ? { inputShape: [l.in_features!] } : {}),
      }),
    );
  });
  for (const l of layers) {
    const weights = [tf.transpose(c.base[`${l.name}.weight`])];
    if (l.bias !== false) weights.push(c.base[`${l.name}.bias`]);
    model.getLayer(l.name).setWeights(weights);
    weights[0].dispose();
  }
  return model;
}

/** Copies PEFT's LoRA tensors into the LoRA layers, converting layouts through the layer kind. */
function loadAdapter(lm: LoraModel, c: PeftCase): void {
  for (const { path, layer } of lm.loraLayers()) {
    const w = layer.weightsOf('default');
    const key = `base_model.model.${path}`;
    tf.tidy(() => {
      w.loraA.write(layer.kind.fromPeft(layer.layer, 'loraA', c.adapter[`${key}.lora_A.weight`]));
      w.loraB.write(layer.kind.fromPeft(layer.layer, 'loraB', c.adapter[`${key}.lora_B.weight`]));
      if (w.magnitude) w.magnitude.write(c.adapter[`${key}.lora_magnitude_vector`]);
    });
  }
}

describe.each(DENSE_CASES)('PEFT case %s (cpu)', (name) => {
  let c: PeftCase;
  let base: tfl.LayersModel;
  let lm: LoraModel;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    c = loadPeftCase(name);
    base = buildBase(c);
    lm = applyLora(base, fromPeftJson(c.adapterConfig));
    loadAdapter(lm, c);
  });

  afterAll(() => {
    lm.dispose();
    base.dispose();
    disposeCase(c);
  });

  it('matches output and output_base', () => {
    const before = tf.memory().numTensors;
    const out = lm.model.predict(c.io.input) as tf.Tensor;
    expect(maxAbsDiff(out, c.io.output)).toBeLessThan(TOL);
    out.dispose();
    lm.disableAdapters();
    const outBase = lm.model.predict(c.io.input) as tf.Tensor;
    expect(maxAbsDiff(outBase, c.io.output_base)).toBeLessThan(TOL);
    outBase.dispose();
    lm.enableAdapters();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches every LoRA gradient', () => {
    const before = tf.memory().numTensors;
    const vars = lm.model.trainableWeights;
    const byName = new Map(vars.map((v) => [v.name, v]));
    const engineVars = Object.values(tf.engine().registeredVariables).filter((v) => byName.has(v.name));
    expect(engineVars.length).toBe(vars.length);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(lm.model.apply(c.io.input, { training: true }) as tf.Tensor, c.io.upstream)) as tf.Scalar,
      engineVars,
    );
    value.dispose();
    const expected = Object.keys(c.io).filter((k) => k.startsWith('grad.'));
    expect(expected.length).toBe(vars.length);
    for (const key of expected) {
      // grad.base_model.model.<path>.lora_A.weight  |  ...lora_magnitude_vector.weight
      const m = /^grad\.base_model\.model\.(.+)\.(lora_A|lora_B|lora_magnitude_vector)\.weight$/.exec(key)!;
      const [, path, kind] = m;
      const { layer } = lm.loraLayers().find((l) => l.path === path)!;
      const w = layer.weightsOf('default');
      const v = kind === 'lora_A' ? w.loraA : kind === 'lora_B' ? w.loraB : w.magnitude!;
      const g = grads[v.name];
      const ours =
        kind === 'lora_magnitude_vector'
          ? tf.clone(g)
          : layer.kind.toPeft(layer.layer, kind === 'lora_A' ? 'loraA' : 'loraB', g);
      expect(maxAbsDiff(ours, c.io[key]), key).toBeLessThan(TOL);
      ours.dispose();
    }
    Object.values(grads).forEach((g) => g.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches merge_and_unload weights, and the merged model gives the adapted output', async () => {
    const merged = lm.mergeAndUnload();
    expect(merged.layers.every((l) => l.getClassName() === 'Dense')).toBe(true);
    for (const l of c.spec.layers) {
      const [kernel, bias] = merged.getLayer(l.name).getWeights();
      const expectedKernel = tf.transpose(c.io[`merged.${l.name}.weight`]);
      expect(maxAbsDiff(kernel, expectedKernel), l.name).toBeLessThan(TOL);
      expectedKernel.dispose();
      if (bias) expect(maxAbsDiff(bias, c.io[`merged.${l.name}.bias`])).toBe(0);
    }
    const out = merged.predict(c.io.input) as tf.Tensor;
    expect(maxAbsDiff(out, c.io.output)).toBeLessThan(TOL);
    out.dispose();
    merged.dispose();
  });
});
