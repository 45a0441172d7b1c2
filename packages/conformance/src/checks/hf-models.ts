// Hugging Face model parity on the active backend: each fixture of @tfjs-lora/nlp ('hf-text': GPT-2,
// DistilBERT, BERT) and @tfjs-lora/vision ('hf-vision': ViT, ResNet), written by transformers 5.18 / PEFT
// 0.21, loaded with core's loadPretrained, gives transformers' logits; with its PEFT adapter (B non-zero)
// loaded by loadPeftAdapter and applied with applyLora, PEFT's; merged (`await merge({safeMerge: true})`,
// unmerged, and `await mergeAndUnload({safeMerge: true})`), PEFT's merged logits. Per-token outputs are
// compared where attention_mask is 1 (padding positions mean nothing). Every read is `await t.data()`.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  applyLora,
  loadPeftAdapter,
  loadPretrained,
  type LoraModel,
  type ModelFiles,
  type PeftAdapterSource,
} from '@tfjs-lora/core';
import { parseSafetensors, safetensorsTensors } from '@tfjs-lora/core/safetensors';
import { expectClose, expectNoLeak, expectTrue } from '../assert.js';
import type { FixtureSource } from '../fixture-source.js';
import type { ConformanceTolerances } from '../tolerances.js';
import type { ConformanceCheck, KnownGap } from '../types.js';

/** The two fixture families: fixtures/hf of @tfjs-lora/nlp ('text') and of @tfjs-lora/vision ('vision'). */
export type HfFamily = 'text' | 'vision';

/** One Hugging Face fixture the suite runs. */
export interface HfModelFixture {
  /** Folder name under the family's fixtures/hf. */
  readonly name: string;
  /** Which package's fixtures (and loader) it is. */
  readonly family: HfFamily;
  /** The transformers class, which the loaded model is named after. */
  readonly arch: string;
  /** Whether it has a PEFT adapter (adapter/ and logits_lora, logits_merged in its reference). */
  readonly adapter: boolean;
}

/** The loader format and package of each family. */
export const HF_FAMILIES: Readonly<Record<HfFamily, { format: string; package: string }>> = {
  text: { format: 'hf-text', package: '@tfjs-lora/nlp' },
  vision: { format: 'hf-vision', package: '@tfjs-lora/vision' },
};

/**
 * The fixtures checked: every architecture family of both loaders, per-token (gpt2-lm) and pooled
 * (classifiers) outputs, right and left padding (gpt2-cls-leftpad: base logits only, it has no adapter).
 */
export const HF_MODEL_FIXTURES: readonly HfModelFixture[] = [
  { name: 'gpt2-lm', family: 'text', arch: 'GPT2LMHeadModel', adapter: true },
  { name: 'gpt2-cls', family: 'text', arch: 'GPT2ForSequenceClassification', adapter: true },
  { name: 'gpt2-cls-leftpad', family: 'text', arch: 'GPT2ForSequenceClassification', adapter: false },
  { name: 'distilbert-cls', family: 'text', arch: 'DistilBertForSequenceClassification', adapter: true },
  { name: 'bert-cls', family: 'text', arch: 'BertForSequenceClassification', adapter: true },
  { name: 'vit-cls', family: 'vision', arch: 'ViTForImageClassification', adapter: true },
  { name: 'resnet-cls', family: 'vision', arch: 'ResNetForImageClassification', adapter: true },
];

/** Where the Hugging Face fixtures are, per family (null: absent, with the reason in `missing`). */
export interface HfFixtureSources {
  /** fixtures/hf of @tfjs-lora/nlp. */
  text: FixtureSource | null;
  /** fixtures/hf of @tfjs-lora/vision. */
  vision: FixtureSource | null;
  /** The fixture folders each source holds (a fixture not listed is a known gap). */
  present: Readonly<Record<HfFamily, readonly string[]>>;
  /** Why a family's source is null or a fixture absent. */
  missing?: Partial<Record<HfFamily, string>>;
}

/** A ModelFiles over a fixture folder, for sources without {@link FixtureSource.location}. */
function folderFiles(source: FixtureSource, dir: string): ModelFiles {
  const read = async (name: string) => source.bytes(`${dir}/${name}`).catch(() => undefined);
  const readText = async (name: string) => {
    const b = await read(name);
    return b === undefined ? undefined : new TextDecoder().decode(b);
  };
  return {
    description: `${source.where}/${dir}`,
    list: async () => undefined,
    read,
    readText,
    readJson: async (name) => {
      const t = await readText(name);
      return t === undefined ? undefined : (JSON.parse(t) as Record<string, unknown>);
    },
  };
}

async function adapterSource(source: FixtureSource, dir: string): Promise<PeftAdapterSource> {
  if (source.location) return source.location(dir);
  const [config, weights] = await Promise.all([
    source.bytes(`${dir}/adapter_config.json`),
    source.bytes(`${dir}/adapter_model.safetensors`),
  ]);
  return { config, weights };
}

/** `x` with every position where attention_mask is 0 set to 0, for per-token outputs [batch, time, ...]. */
function maskPadding(x: tf.Tensor, mask: tf.Tensor | undefined): tf.Tensor {
  return tf.tidy(() => {
    if (!mask || x.rank < 3 || x.shape[1] !== mask.shape[1] || x.shape[0] !== mask.shape[0]) return tf.clone(x);
    let m = tf.greater(mask, 0);
    while (m.rank < x.rank) m = tf.expandDims(m, -1);
    return tf.where(tf.broadcastTo(m, x.shape), x, tf.zerosLike(x));
  });
}

/** Compares a model's output(s) with the reference's `key` (and `key_pooler`), masked; disposes `y`. */
async function compareLogits(
  y: tf.Tensor | tf.Tensor[],
  ref: Record<string, tf.Tensor>,
  key: string,
  tol: number,
  what: string,
): Promise<void> {
  const ys = Array.isArray(y) ? y : [y];
  const keys = [key, ...(ref[`${key}_pooler`] ? [`${key}_pooler`] : [])];
  try {
    expectTrue(
      ys.length === keys.length,
      `${what}: the model has ${ys.length} output(s), the reference ${keys.length}`,
    );
    for (const [i, k] of keys.entries()) {
      const mask = ref['attention_mask'];
      const [a, b] = [maskPadding(ys[i]!, mask), maskPadding(ref[k]!, mask)];
      const masked = mask !== undefined && a.rank === 3;
      try {
        await expectClose(a, b, tol, `${what} vs ${k}${masked ? ' (where attention_mask is 1)' : ''}`);
      } finally {
        tf.dispose([a, b]);
      }
    }
  } finally {
    tf.dispose(ys);
  }
}

async function checkFixture(source: FixtureSource, f: HfModelFixture, tol: number): Promise<void> {
  const before = tf.memory().numTensors;
  const ref = safetensorsTensors(parseSafetensors(await source.bytes(`${f.name}/reference.safetensors`)));
  const { format } = HF_FAMILIES[f.family];
  let model: tfl.LayersModel | null = null;
  let lm: LoraModel | null = null;
  try {
    model = (await loadPretrained(source.location ? source.location(f.name) : folderFiles(source, f.name), {
      format,
    })) as tfl.LayersModel;
    expectTrue(model.name === f.arch, `${f.name}: '${format}' built '${model.name}', expected '${f.arch}'`);
    const feeds = model.inputNames.map((n) => {
      const t = ref[n];
      expectTrue(t !== undefined, `${f.name}: the reference has no input '${n}' (model inputs: ${model!.inputNames})`);
      return t!;
    });
    const m = model;
    const predict = (net: tfl.LayersModel) => net.predict(feeds.length === 1 ? feeds[0]! : feeds);
    await compareLogits(predict(m), ref, 'logits', tol, `${f.name}: loadPretrained ('${format}')`);
    expectTrue(
      f.adapter === (ref['logits_lora'] !== undefined),
      `${f.name}: expected ${f.adapter ? 'logits_lora in' : 'no logits_lora in'} its reference.safetensors`,
    );
    if (f.adapter) {
      const adapter = await loadPeftAdapter(await adapterSource(source, `${f.name}/adapter`));
      try {
        lm = applyLora(m, adapter);
      } finally {
        adapter.dispose();
      }
      const skipped = lm.peftLoadReport('default')?.skipped ?? [];
      expectTrue(skipped.length === 0, `${f.name}: the PEFT adapter's modules ${skipped.join(', ')} matched no layer`);
      await compareLogits(predict(lm.model), ref, 'logits_lora', tol, `${f.name}: PEFT adapter`);
      await lm.merge({ safeMerge: true });
      await compareLogits(predict(lm.model), ref, 'logits_merged', tol, `${f.name}: merged`);
      lm.unmerge();
      await compareLogits(predict(lm.model), ref, 'logits_lora', tol, `${f.name}: unmerged`);
      const plain = await lm.mergeAndUnload({ safeMerge: true });
      try {
        await compareLogits(predict(plain), ref, 'logits_merged', tol, `${f.name}: mergeAndUnload`);
      } finally {
        plain.dispose();
      }
    }
  } finally {
    lm?.dispose();
    model?.dispose();
    tf.dispose(Object.values(ref));
  }
  expectNoLeak(before, `${f.name}: loading, predicting, adapting, merging and disposing`);
}

/**
 * The checks of {@link HF_MODEL_FIXTURES} on the active backend, held to `tol.hfLogits`; a fixture whose
 * folder or loader package is absent is a known gap that says which.
 */
export function hfModelChecks(
  sources: HfFixtureSources | null | undefined,
  tol: ConformanceTolerances,
  missingPackages: Readonly<Record<string, string>> = {},
): { checks: ConformanceCheck[]; gaps: KnownGap[] } {
  const checks: ConformanceCheck[] = [];
  const gaps: KnownGap[] = [];
  for (const f of HF_MODEL_FIXTURES) {
    const { format, package: pkg } = HF_FAMILIES[f.family];
    const source = sources?.[f.family] ?? null;
    const name = `hf/${f.name}`;
    if (missingPackages[pkg]) gaps.push({ name, reason: `no '${format}' loader: ${missingPackages[pkg]}` });
    else if (!source)
      gaps.push({
        name,
        reason: sources?.missing?.[f.family] ?? `the Hugging Face fixtures of ${pkg} (fixtures/hf) were not given`,
      });
    else if (!sources!.present[f.family].includes(f.name))
      gaps.push({ name, reason: `no fixture folder ${source.where}/${f.name} (written by ${pkg}'s scripts)` });
    else
      checks.push({
        name:
          `${name}: ${f.arch} via loadPretrained ('${format}') gives transformers' logits` +
          (f.adapter ? "; with its PEFT adapter, merged, unmerged and mergeAndUnload, PEFT's" : ''),
        run: () => checkFixture(source, f, tol.hfLogits),
      });
  }
  return { checks, gaps };
}
