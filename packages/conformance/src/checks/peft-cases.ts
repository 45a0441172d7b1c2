// PEFT reference cases on the active backend: outputs with the adapter on and off, every LoRA
// gradient, and merge_and_unload weights, for each case whose layer kinds have a registered adapter.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, findLayerKind, fromPeftJson, type LoraModel } from '@tfjs-lora/core';
import { expectClose, expectNoLeak, expectTrue } from '../assert.js';
import type { FixtureSource } from '../fixture-source.js';
import {
  buildCaseModel,
  CASE_LAYER_KINDS,
  caseKinds,
  disposeCase,
  loadPeftCase,
  type PeftCase,
  type PeftCaseLayer,
} from '../peft-case.js';
import type { ConformanceTolerances } from '../tolerances.js';
import type { ConformanceCheck, KnownGap } from '../types.js';

const GRAD_KEY =
  /^grad\.base_model\.model\.(.+)\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B|lora_magnitude_vector)(?:\.weight)?$/;

/** Copies PEFT's adapter tensors into the LoRA layers through each layer kind's `fromPeft`. */
function loadAdapter(lm: LoraModel, c: PeftCase): void {
  for (const { path, layer } of lm.loraLayers()) {
    const w = layer.weightsOf('default');
    const key = `base_model.model.${path}`;
    const get = (n: string) => c.adapter[`${key}.${n}.weight`] ?? c.adapter[`${key}.${n}`];
    tf.tidy(() => {
      w.loraA.write(layer.kind.fromPeft(layer.layer, 'loraA', get(layer.kind.peftNames.loraA)));
      w.loraB.write(layer.kind.fromPeft(layer.layer, 'loraB', get(layer.kind.peftNames.loraB)));
      // PEFT stores a conv DoRA magnitude as [1, out, 1, 1] (Linear: [out]): the kind's DoRA variant converts.
      if (w.magnitude) w.magnitude.write(layer.kind.dora!.magnitudeFromPeft(layer.layer, get('lora_magnitude_vector')));
    });
  }
}

interface Built {
  c: PeftCase;
  base: tfl.LayersModel;
  lm: LoraModel;
  toTf: (t: tf.Tensor) => tf.Tensor;
}

async function withCase(source: FixtureSource, name: string, fn: (b: Built) => Promise<void>): Promise<void> {
  const c = await loadPeftCase(source, name);
  const base = buildCaseModel(c);
  const lm = await applyLora(base, fromPeftJson(c.adapterConfig));
  const kind = CASE_LAYER_KINDS[c.layers[0]!.kind]!;
  try {
    loadAdapter(lm, c);
    await fn({ c, base, lm, toTf: (t) => kind.activationToTf(t) });
  } finally {
    lm.dispose();
    base.dispose();
    disposeCase(c);
  }
}

async function checkOutputs({ c, lm, toTf }: Built, tol: ConformanceTolerances): Promise<void> {
  const [input, output, outputBase] = [toTf(c.io.input), toTf(c.io.output), toTf(c.io.output_base)];
  const before = tf.memory().numTensors;
  const out = lm.model.predict(input) as tf.Tensor;
  await expectClose(out, output, tol.peftOutput, `${c.name}: output (adapter on)`);
  out.dispose();
  lm.disableAdapters();
  const outBase = lm.model.predict(input) as tf.Tensor;
  await expectClose(outBase, outputBase, tol.peftOutput, `${c.name}: output_base (adapters disabled)`);
  outBase.dispose();
  lm.enableAdapters();
  expectNoLeak(before, `${c.name}: predict`);
  tf.dispose([input, output, outputBase]);
}

async function checkGradients({ c, lm, toTf }: Built, tol: ConformanceTolerances): Promise<void> {
  const [input, upstream] = [toTf(c.io.input), toTf(c.io.upstream)];
  const before = tf.memory().numTensors;
  const names = new Set(lm.model.trainableWeights.map((v) => v.name));
  const vars = Object.values(tf.engine().registeredVariables).filter((v) => names.has(v.name));
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.mul(lm.model.apply(input, { training: true }) as tf.Tensor, upstream)) as tf.Scalar,
    vars,
  );
  value.dispose();
  const keys = Object.keys(c.io).filter((k) => k.startsWith('grad.'));
  expectTrue(
    keys.length === vars.length,
    `${c.name}: PEFT has ${keys.length} LoRA gradients, the LoRA model ${vars.length} trainable weights`,
  );
  for (const key of keys) {
    const [, path, peftName] = GRAD_KEY.exec(key) ?? [];
    const entry = lm.loraLayers().find((l) => l.path === path);
    expectTrue(entry !== undefined, `${c.name}: no LoRA layer at '${path}' for ${key}`);
    const { layer } = entry!;
    const w = layer.weightsOf('default');
    const factor = /_A$/.test(peftName) ? 'loraA' : /_B$/.test(peftName) ? 'loraB' : null;
    const v = factor === 'loraA' ? w.loraA : factor === 'loraB' ? w.loraB : w.magnitude!;
    const ours = factor
      ? layer.kind.toPeft(layer.layer, factor, grads[v.name])
      : tf.tidy(() => tf.clone(layer.kind.dora!.magnitudeToPeft(layer.layer, grads[v.name])));
    await expectClose(ours, c.io[key], tol.peftGradient, `${c.name}: ${key}`, { scaleAbove1: true });
    ours.dispose();
  }
  tf.dispose(Object.values(grads));
  expectNoLeak(before, `${c.name}: gradients`);
  tf.dispose([input, upstream]);
}

async function checkMerged({ c, lm, toTf }: Built, tol: ConformanceTolerances): Promise<void> {
  const merged = lm.mergeAndUnload();
  try {
    for (const l of c.layers) {
      const kind = CASE_LAYER_KINDS[l.kind]!;
      const [kernel, bias] = merged.getLayer(l.name).getWeights();
      const torchKernel = kind.weightToTorch(kernel);
      await expectClose(
        torchKernel,
        c.io[`merged.${l.name}.weight`],
        tol.peftMerged,
        `${c.name}: merged.${l.name}.weight`,
      );
      torchKernel.dispose();
      if (bias)
        await expectClose(bias, c.io[`merged.${l.name}.bias`], 0, `${c.name}: merged.${l.name}.bias (unchanged)`);
    }
    const [input, output] = [toTf(c.io.input), toTf(c.io.output)];
    const out = merged.predict(input) as tf.Tensor;
    await expectClose(out, output, tol.peftOutput, `${c.name}: merged model output`);
    tf.dispose([out, input, output]);
  } finally {
    merged.dispose();
  }
}

/**
 * The checks of one PEFT case, or a known gap when a layer kind has no registered adapter (e.g. Conv2D
 * before @tfjs-lora/vision is imported) or is unknown to this suite.
 */
export async function peftCaseChecks(
  source: FixtureSource,
  name: string,
  tol: ConformanceTolerances,
  missingPackages: Readonly<Record<string, string>> = {},
): Promise<{ checks: ConformanceCheck[]; gaps: KnownGap[] }> {
  const spec = JSON.parse(await source.text(`peft-cases/${name}/case.json`)) as { layers: PeftCaseLayer[] };
  const { kinds, unknown } = caseKinds(spec);
  if (unknown.length > 0)
    return {
      checks: [],
      gaps: [
        { name: `peft/${name}`, reason: `layer kind(s) ${unknown.join(', ')} are not mapped to tfjs by this suite` },
      ],
    };
  const missing = [...new Set(kinds.filter((k) => !findLayerKind(k.tfjsClass)))];
  if (missing.length > 0) {
    const what = missing
      .map((k) => `${k.tfjsClass} (${missingPackages[k.loraPackage] ?? `import ${k.loraPackage}`})`)
      .join(', ');
    return { checks: [], gaps: [{ name: `peft/${name}`, reason: `no LoRA layer kind registered for ${what}` }] };
  }
  const check = (what: string, fn: (b: Built, t: ConformanceTolerances) => Promise<void>): ConformanceCheck => ({
    name: `peft/${name}: ${what}`,
    run: () => withCase(source, name, (b) => fn(b, tol)),
  });
  return {
    checks: [
      check('outputs with the adapter on and off', checkOutputs),
      check('every LoRA gradient', checkGradients),
      check('merge_and_unload weights and merged output', checkMerged),
    ],
    gaps: [],
  };
}
