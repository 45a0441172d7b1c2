// The Hugging Face model checks' plan: every fixture runs where its folder and loader package are, and is a
// known gap naming what is missing otherwise (never a silent skip). The checks themselves run in the
// backend runners (cpu.test.ts, wasm.test.ts, native.test.ts, webgpu-*.test.ts).
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-lora/nlp';
import '@tfjs-lora/vision';
import { describe, expect, it } from 'vitest';
import type { FixtureSource } from './fixture-source.js';
import { HF_MODEL_FIXTURES, hfModelChecks } from './checks/hf-models.js';
import { defaultHfFixtureRoots, hfFixtureSources } from './hf-fixtures-node.js';
import { tolerancesFor } from './tolerances.js';

const tol = tolerancesFor('cpu');

describe('Hugging Face model checks: plan', () => {
  it('finds fixtures/hf of @tfjs-lora/nlp and @tfjs-lora/vision in the repository, with every fixture', async () => {
    const roots = defaultHfFixtureRoots();
    expect(roots.text).toHaveProperty('root', expect.stringMatching(/packages\/nlp\/fixtures\/hf$/));
    expect(roots.vision).toHaveProperty('root', expect.stringMatching(/packages\/vision\/fixtures\/hf$/));
    const { checks, gaps } = hfModelChecks(await hfFixtureSources(roots), tol);
    expect(gaps).toEqual([]);
    expect(checks.map((c) => c.name.split(':')[0])).toEqual(HF_MODEL_FIXTURES.map((f) => `hf/${f.name}`));
  });

  it('makes absent fixtures, folders and loader packages known gaps that say which', async () => {
    const none = hfModelChecks(undefined, tol);
    expect(none.checks).toEqual([]);
    expect(none.gaps.map((g) => g.name)).toEqual(HF_MODEL_FIXTURES.map((f) => `hf/${f.name}`));
    expect(none.gaps[0]!.reason).toMatch(/@tfjs-lora\/nlp.*not given/);

    const sources = await hfFixtureSources({
      text: { missing: 'text fixtures are elsewhere' },
      vision: defaultHfFixtureRoots().vision,
    });
    sources.present = { ...sources.present, vision: sources.present.vision.filter((n) => n !== 'resnet-cls') };
    const partial = hfModelChecks(sources, tol, { '@tfjs-lora/vision': 'not installed' });
    expect(partial.checks).toEqual([]);
    const reasons = Object.fromEntries(partial.gaps.map((g) => [g.name, g.reason]));
    expect(reasons['hf/gpt2-lm']).toBe('text fixtures are elsewhere');
    expect(reasons['hf/vit-cls']).toBe("no 'hf-vision' loader: not installed");

    const noFolder = hfModelChecks(sources, tol);
    expect(noFolder.checks.map((c) => c.name)).toEqual([expect.stringMatching(/^hf\/vit-cls: /)]);
    expect(noFolder.gaps.find((g) => g.name === 'hf/resnet-cls')!.reason).toMatch(/no fixture folder .*resnet-cls/);
  });

  it('runs through FixtureSource.bytes alone when a source has no location (a ModelFiles over the folder)', async () => {
    await tf.setBackend('cpu');
    const disk = await hfFixtureSources();
    const bytesOnly = (src: FixtureSource | null): FixtureSource => ({
      where: `${src!.where} (bytes only)`,
      bytes: (p) => src!.bytes(p),
      text: (p) => src!.text(p),
    });
    const { checks } = hfModelChecks(
      { ...disk, text: bytesOnly(disk.text), vision: bytesOnly(disk.vision) },
      tolerancesFor('cpu'),
    );
    for (const name of ['hf/bert-cls', 'hf/vit-cls']) {
      const check = checks.find((c) => c.name.startsWith(`${name}:`))!;
      await check.run();
    }
  });
});
