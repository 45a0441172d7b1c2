// All seven PEFT reference cases through the public API (the loader exercised for real): loadPeftAdapter → applyLora → outputs, gradients
// and merge_and_unload weights against PEFT's (1e-5), and savePeftAdapter writing PEFT's own bytes back.
// conv2d, dora_conv2d and embedding need the Conv2D / Embedding layer kinds of @tfjs-lora/vision and @tfjs-lora/nlp:
// they run as soon as such an adapter is registered in this process.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CASE_LAYER_KINDS,
  caseModel,
  disposeCase,
  loadPeftCase,
  maxAbsDiff,
  peftCasePath,
  type CaseModel,
  type PeftCase,
  type PeftCaseLayer,
} from '@tfjs-lora/test-support';
import { toPeftJson } from '../config.js';
import { findLayerKind } from '../layer-kind.js';
import { applyLora } from '../apply-lora.js';
import type { LoraModel } from '../lora-model.js';
import { inspectPeftAdapter } from './inspect.js';
import { loadPeftAdapter } from './load.js';
import { savePeftAdapter } from './save.js';

const CASES = ['linear', 'linear_rslora', 'mlp_patterns', 'dora_linear', 'conv2d', 'dora_conv2d', 'embedding'];
const TOL = 1e-5;

/** The tfjs class of the case's layers when no LoRA layer kind handles it yet, with its package. */
function missingAdapter(name: string): { cls: string; pkg: string } | null {
  const spec = JSON.parse(readFileSync(join(peftCasePath(name), 'case.json'), 'utf8')) as { layers: PeftCaseLayer[] };
  const kind = CASE_LAYER_KINDS[spec.layers[0]!.kind]!;
  return findLayerKind(kind.tfjsClass) ? null : { cls: kind.tfjsClass, pkg: kind.loraPackage };
}

/** Declares no test (see itWithKind below). */
const noTest = (_name: string, _fn: () => unknown): void => undefined;

describe.each(CASES)('PEFT case %s through loadPeftAdapter (cpu)', (name) => {
  const dir = peftCasePath(name);
  const missing = missingAdapter(name);
  // A case runs either with its layer kind registered (every number against PEFT's) or without it (the error
  // that names the package to install); only the tests of the branch that applies are declared. The cases of
  // vision's and nlp's kinds run in full in those packages and in the conformance suite.
  const itWithKind: typeof noTest = missing === null ? it : noTest;
  const itWithoutKind: typeof noTest = missing !== null ? it : noTest;
  let c: PeftCase;
  let built: CaseModel;
  let lm: LoraModel | undefined;
  let tmp: string;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    c = loadPeftCase(name);
    built = caseModel(c);
    tmp = mkdtempSync(join(tmpdir(), `tfjs-lora-${name}-`));
    if (missing) return;
    const adapter = await loadPeftAdapter(join(dir, 'adapter'));
    lm = applyLora(built.model, adapter);
    adapter.dispose();
  });

  afterAll(() => {
    lm?.dispose();
    built.model.dispose();
    disposeCase(c);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('loads and inspects: ranks, scaling, and ‖ΔW‖ equal to ‖merged − base‖ from PEFT', async () => {
    const adapter = await loadPeftAdapter(join(dir, 'adapter'));
    const summary = await inspectPeftAdapter(adapter);
    expect(summary.config).toEqual(c.adapterConfig);
    expect(summary.modules.map((m) => m.path).sort()).toEqual(
      c.layers
        .filter((l) => Object.keys(c.adapter).some((k) => k.includes(`.${l.name}.`)))
        .map((l) => l.name)
        .sort(),
    );
    for (const m of summary.modules) {
      const delta = tf.tidy(
        () => tf.norm(tf.sub(c.io[`merged.${m.path}.weight`]!, c.base[`${m.path}.weight`]!)).dataSync()[0]!,
      );
      const isDora = m.dora;
      if (!isDora) expect(Math.abs(m.deltaNorm! - delta) / delta, m.path).toBeLessThan(1e-5);
      expect(m.scaling).toBeCloseTo(m.alpha / (c.adapterConfig.use_rslora ? Math.sqrt(m.r) : m.r), 12);
      expect(m.kind).toBe(c.layers.find((l) => l.name === m.path)!.kind);
    }
    expect(summary.totalParams).toBe(Object.values(c.adapter).reduce((n, t) => n + t.size, 0));
    adapter.dispose();
  });

  itWithoutKind(`without its layer kind, applyLora names the missing adapter`, async () => {
    const adapter = await loadPeftAdapter(join(dir, 'adapter'));
    expect(() => applyLora(built.model, adapter)).toThrow(
      new RegExp(`No LoRA layer kind handles '${missing?.cls}'.*${(missing?.pkg ?? '').replace('/', '\\/')}`),
    );
    adapter.dispose();
  });

  it('the tfjs base model reproduces PEFT output_base (layouts of the builder)', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const out = built.output(built.model.predict(built.input(c.io.input!)) as tf.Tensor);
      expect(maxAbsDiff(out, c.io.output_base!)).toBeLessThan(TOL);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  itWithKind('loads every PEFT module into a LoRA layer with exactly PEFT’s factors (and DoRA magnitude)', () => {
    const aKey = /^base_model\.model\.(.+)\.lora_(?:embedding_)?A(?:\.weight)?$/;
    const modules = Object.keys(c.adapter).flatMap((k) => aKey.exec(k)?.[1] ?? []);
    const layers = lm!.loraLayers();
    expect(layers.map((l) => l.path).sort()).toEqual(modules.sort());
    for (const { path, layer } of layers) {
      const w = layer.weightsOf('default');
      const peft = (name: string) =>
        c.adapter[`base_model.model.${path}.${name}.weight`] ?? c.adapter[`base_model.model.${path}.${name}`]!;
      tf.tidy(() => {
        const { loraA, loraB } = layer.kind.peftNames;
        expect(maxAbsDiff(layer.kind.toPeft(layer.layer, 'loraA', w.loraA.read()), peft(loraA))).toBe(0);
        expect(maxAbsDiff(layer.kind.toPeft(layer.layer, 'loraB', w.loraB.read()), peft(loraB))).toBe(0);
        if (w.magnitude) {
          const m = layer.kind.dora!.magnitudeToPeft(layer.layer, w.magnitude.read());
          expect(maxAbsDiff(m, peft('lora_magnitude_vector'))).toBe(0);
        }
      });
    }
  });

  itWithKind('keeps the config as PEFT wrote it', () => {
    expect(toPeftJson(lm!.peftConfig('default'))).toEqual(c.adapterConfig);
    expect(lm!.peftSource('default')!.skipped).toEqual([]);
  });

  itWithKind('matches output and output_base', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = built.input(c.io.input!);
      expect(maxAbsDiff(built.output(lm!.model.predict(x) as tf.Tensor), c.io.output!)).toBeLessThan(TOL);
      lm!.withAdaptersDisabled(() => {
        expect(maxAbsDiff(built.output(lm!.model.predict(x) as tf.Tensor), c.io.output_base!)).toBeLessThan(TOL);
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  itWithKind('matches every LoRA gradient', () => {
    const before = tf.memory().numTensors;
    const model = lm!.model;
    const byName = new Map(model.trainableWeights.map((v) => [v.name, v]));
    const vars = Object.values(tf.engine().registeredVariables).filter((v) => byName.has(v.name));
    const x = built.input(c.io.input!);
    const upstream = built.input(c.io.upstream!);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, upstream)) as tf.Scalar,
      vars,
    );
    const expected = Object.keys(c.io).filter((k) => k.startsWith('grad.'));
    expect(expected.length).toBe(vars.length);
    for (const key of expected) {
      const m = /^grad\.base_model\.model\.(.+)\.(lora_\w+?)(?:\.weight)?$/.exec(key)!;
      const { layer } = lm!.loraLayers().find((l) => l.path === m[1])!;
      const w = layer.weightsOf('default');
      const isA = m[2] === layer.kind.peftNames.loraA;
      const v = m[2] === 'lora_magnitude_vector' ? w.magnitude! : isA ? w.loraA : w.loraB;
      const ours =
        m[2] === 'lora_magnitude_vector'
          ? tf.tidy(() => tf.clone(layer.kind.dora!.magnitudeToPeft(layer.layer, grads[v.name]!)))
          : layer.kind.toPeft(layer.layer, isA ? 'loraA' : 'loraB', grads[v.name]!);
      expect(maxAbsDiff(ours, c.io[key]!), key).toBeLessThan(TOL);
      ours.dispose();
    }
    tf.dispose([value, x, upstream, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  itWithKind('matches merge_and_unload weights, and the merged model gives the adapted output', () => {
    const merged = lm!.mergeAndUnload();
    for (const l of c.layers) {
      const layer = merged.getLayer(l.name);
      const [kernel, bias] = layer.getWeights();
      tf.tidy(() => {
        expect(
          maxAbsDiff(built.peftParam(layer, 'weight', kernel!), c.io[`merged.${l.name}.weight`]!),
          l.name,
        ).toBeLessThan(TOL);
        if (bias) expect(maxAbsDiff(bias, c.io[`merged.${l.name}.bias`]!)).toBe(0);
      });
    }
    tf.tidy(() => {
      const out = merged.predict(built.input(c.io.input!)) as tf.Tensor;
      expect(maxAbsDiff(built.output(out), c.io.output!)).toBeLessThan(TOL);
    });
    merged.dispose();
  });

  itWithKind('savePeftAdapter writes back the bytes PEFT wrote', async () => {
    const before = tf.memory().numTensors;
    await savePeftAdapter(lm!, tmp);
    expect(
      readFileSync(join(tmp, 'adapter_model.safetensors')).equals(
        readFileSync(join(dir, 'adapter', 'adapter_model.safetensors')),
      ),
    ).toBe(true);
    expect(JSON.parse(readFileSync(join(tmp, 'adapter_config.json'), 'utf8'))).toEqual(c.adapterConfig);
    expect(tf.memory().numTensors).toBe(before);
  });
});
