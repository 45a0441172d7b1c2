// The Dense PEFT reference cases (@tfjs-lora/test-support: peft-cases) through the real loader: PEFT's
// adapter folder read by loadPeftAdapter and applied with applyLora(model, adapter); outputs, gradients and
// merged weights computed by Hugging Face PEFT 0.21 on PyTorch must be reproduced within 1e-5.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  caseModel,
  disposeCase,
  loadPeftCase,
  maxAbsDiff,
  peftCasePath,
  type CaseModel,
  type PeftCase,
} from '@tfjs-lora/test-support';
import { join } from 'node:path';
import { applyLora } from './apply-lora.js';
import type { LoraModel } from './lora-model.js';
import { loadPeftAdapter } from './peft/load.js';

const DENSE_CASES = ['linear', 'linear_rslora', 'mlp_patterns', 'dora_linear'];
const TOL = 1e-5;

describe.each(DENSE_CASES)('PEFT case %s (cpu)', (name) => {
  let c: PeftCase;
  let base: CaseModel;
  let lm: LoraModel;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    c = loadPeftCase(name);
    base = caseModel(c); // Linear [out,in] → Dense [in,out], with PEFT's base weights
    const adapter = await loadPeftAdapter(join(peftCasePath(name), 'adapter'));
    lm = applyLora(base.model, adapter);
    adapter.dispose();
  });

  afterAll(() => {
    lm.dispose();
    base.model.dispose();
    disposeCase(c);
  });

  it('loads every PEFT module into a LoRA layer with PEFT’s factors', () => {
    const keys = Object.keys(c.adapter).filter((k) => /\.lora_A\.weight$/.test(k));
    expect(
      lm
        .loraLayers()
        .map((l) => l.path)
        .sort(),
    ).toEqual(keys.map((k) => k.replace(/^base_model\.model\.(.+)\.lora_A\.weight$/, '$1')).sort());
    for (const { path, layer } of lm.loraLayers()) {
      const w = layer.weightsOf('default');
      const key = `base_model.model.${path}`;
      tf.tidy(() => {
        expect(
          maxAbsDiff(layer.kind.toPeft(layer.layer, 'loraA', w.loraA.read()), c.adapter[`${key}.lora_A.weight`]!),
        ).toBe(0);
        expect(
          maxAbsDiff(layer.kind.toPeft(layer.layer, 'loraB', w.loraB.read()), c.adapter[`${key}.lora_B.weight`]!),
        ).toBe(0);
        if (w.magnitude) expect(maxAbsDiff(w.magnitude.read(), c.adapter[`${key}.lora_magnitude_vector`]!)).toBe(0);
      });
    }
  });

  it('matches output and output_base', () => {
    tf.tidy(() => {
      const x = base.input(c.io.input!);
      expect(maxAbsDiff(base.output(lm.model.predict(x) as tf.Tensor), c.io.output!)).toBeLessThan(TOL);
      lm.withAdaptersDisabled(() => {
        expect(maxAbsDiff(base.output(lm.model.predict(x) as tf.Tensor), c.io.output_base!)).toBeLessThan(TOL);
      });
    });
  });

  it('matches every LoRA gradient', () => {
    const vars = lm.model.trainableWeights;
    const byName = new Map(vars.map((v) => [v.name, v]));
    const engineVars = Object.values(tf.engine().registeredVariables).filter((v) => byName.has(v.name));
    expect(engineVars.length).toBe(vars.length);
    const { value, grads } = tf.variableGrads(
      () =>
        tf.sum(
          tf.mul(lm.model.apply(base.input(c.io.input!), { training: true }) as tf.Tensor, base.input(c.io.upstream!)),
        ) as tf.Scalar,
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
      const g = grads[v.name]!;
      const ours =
        kind === 'lora_magnitude_vector'
          ? tf.clone(g)
          : layer.kind.toPeft(layer.layer, kind === 'lora_A' ? 'loraA' : 'loraB', g);
      expect(maxAbsDiff(ours, c.io[key]!), key).toBeLessThan(TOL);
      ours.dispose();
    }
    tf.dispose(Object.values(grads));
  });

  it('matches merge_and_unload weights, and the merged model gives the adapted output', () => {
    const merged = lm.mergeAndUnload();
    expect(merged.layers.every((l) => l.getClassName() === 'Dense')).toBe(true);
    for (const l of c.layers) {
      const layer = merged.getLayer(l.name);
      const [kernel, bias] = layer.getWeights();
      tf.tidy(() => {
        expect(
          maxAbsDiff(base.peftParam(layer, 'weight', kernel!), c.io[`merged.${l.name}.weight`]!),
          l.name,
        ).toBeLessThan(TOL);
        if (bias) expect(maxAbsDiff(bias, c.io[`merged.${l.name}.bias`]!)).toBe(0);
      });
    }
    tf.tidy(() => {
      const out = merged.predict(base.input(c.io.input!)) as tf.Tensor;
      expect(maxAbsDiff(base.output(out), c.io.output!)).toBeLessThan(TOL);
    });
    merged.dispose();
  });
});
