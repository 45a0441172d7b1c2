// The domain-adaptation experiment: the MNIST-pretrained CNN adapted to a new domain by head-only
// training, LoRA at several ranks on its convolutions and Dense layers, and full fine-tuning, on the
// same data and backend; one row per method with target accuracy, trainable parameters, training time
// and peak tf.memory().numBytes of a training step.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, LoraConfigError, type LoraModel } from '@tfjs-lora/core';
import '../index.js';
import { fashionMnistFolder, invertAndRotate, loadFashionMnist, loadMnist, type ImageSet } from './datasets.js';
import { loadMnistCnn, MNIST_CNN_FOLDER } from './mnist-cnn.js';
import { accuracy, train } from './training.js';

/** The target domains. */
export type Domain = 'mnist-inverted-rotated' | 'fashion-mnist';
/** The compared methods. */
export type Method = 'base' | 'head' | 'lora' | 'full';

/** Options of {@link runDomainAdaptation}; every field has a default. */
export interface DomainAdaptationOptions {
  /** Target domain (default 'mnist-inverted-rotated'). */
  domain?: Domain;
  /** Methods to run, in this order (default all: base, head, lora, full). */
  methods?: Method[];
  /** LoRA ranks (default [1, 4, 8]). */
  ranks?: number[];
  /** LoRA alpha for every rank (default 2·r, i.e. scaling 2). */
  loraAlpha?: number;
  /** LoRA targets, PEFT-style (default the regex 'conv1|conv2|fc1|head': both convolutions and both Dense layers). */
  targetModules?: string | string[];
  /** Passes over the training data (default 2). */
  epochs?: number;
  /** Target-domain training examples (default 6000). */
  trainSize?: number;
  /** Target-domain test examples (default 2000). */
  testSize?: number;
  /** Examples per step (default 64). */
  batchSize?: number;
  /** Adam learning rates per method (defaults: full 1e-3, head 3e-3, LoRA 3e-3). */
  learningRate?: { full?: number; head?: number; lora?: number };
  /** Rotation range of 'mnist-inverted-rotated' in degrees, each image ±[min, max] (default [0, 30]). */
  rotationDegrees?: [number, number];
  /** Seed of data order, rotations and LoRA init (default 1). */
  seed?: number;
  /** Folder of the pretrained CNN (default the committed models/mnist-cnn). */
  modelFolder?: string;
  /** Called with each trained LoRA model (e.g. to save the adapter) before it is disposed. */
  onLoraTrained?: (lora: LoraModel, r: number) => void | Promise<void>;
}

/** One method's result. */
export interface AdaptationRow {
  /** 'base (no training)', 'head only', 'LoRA r=8', 'full fine-tuning'. */
  method: string;
  /** LoRA rank, or null. */
  r: number | null;
  /** Target-domain test accuracy in [0, 1]. */
  accuracy: number;
  /** Trainable parameters. */
  trainable: number;
  /** 100 · trainable / (full fine-tuning's trainable). */
  percentOfFull: number;
  /** Wall time of training, seconds (0 for the base). */
  trainSeconds: number;
  /** Peak `tf.memory().numBytes` of a training step (0 for the base). */
  peakBytes: number;
}

/** What {@link runDomainAdaptation} returns. */
export interface AdaptationResult {
  /** The target domain. */
  domain: Domain;
  /** tfjs backend the run used. */
  backend: string;
  /** One row per method, in run order. */
  rows: AdaptationRow[];
  /** The settings after defaults. */
  settings: Required<Omit<DomainAdaptationOptions, 'onLoraTrained' | 'loraAlpha'>> & { loraAlpha: number | '2r' };
}

/** Progress of a run, for a progress bar. */
export type AdaptationProgress =
  | { kind: 'data'; message: string }
  | { kind: 'start'; method: string; epochs: number; steps: number }
  | { kind: 'step'; method: string; epoch: number; epochs: number; step: number; steps: number; loss: number }
  | { kind: 'result'; row: AdaptationRow };

function domainData(
  domain: Domain,
  o: { trainSize: number; testSize: number; seed: number; rotationDegrees: [number, number] },
): { train: ImageSet; test: ImageSet } {
  if (domain === 'fashion-mnist') {
    if (!fashionMnistFolder()) {
      throw new LoraConfigError(
        `domain 'fashion-mnist' needs /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist); choose 'mnist-inverted-rotated' or install it.`,
        { field: 'domain' },
      );
    }
    return {
      train: loadFashionMnist('train', { limit: o.trainSize }),
      test: loadFashionMnist('test', { limit: o.testSize }),
    };
  }
  const [minDegrees, maxDegrees] = o.rotationDegrees;
  return {
    train: invertAndRotate(loadMnist('train', { limit: o.trainSize }), { minDegrees, maxDegrees, seed: o.seed }),
    test: invertAndRotate(loadMnist('test', { limit: o.testSize }), { minDegrees, maxDegrees, seed: o.seed + 1 }),
  };
}

function countTrainable(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
}

/**
 * Runs the experiment on the active tfjs backend (choose it first, e.g. `await useBackend('wasm')`).
 * Every method starts from the same pretrained weights and sees the same examples in the same order.
 */
export async function runDomainAdaptation(
  options: DomainAdaptationOptions = {},
  onProgress?: (p: AdaptationProgress) => void,
): Promise<AdaptationResult> {
  const s = {
    domain: options.domain ?? 'mnist-inverted-rotated',
    methods: options.methods ?? (['base', 'head', 'lora', 'full'] as Method[]),
    ranks: options.ranks ?? [1, 4, 8],
    targetModules: options.targetModules ?? 'conv1|conv2|fc1|head',
    epochs: options.epochs ?? 2,
    trainSize: options.trainSize ?? 6000,
    testSize: options.testSize ?? 2000,
    batchSize: options.batchSize ?? 64,
    learningRate: { full: 1e-3, head: 3e-3, lora: 3e-3, ...options.learningRate },
    rotationDegrees: options.rotationDegrees ?? ([0, 30] as [number, number]),
    seed: options.seed ?? 1,
    modelFolder: options.modelFolder ?? MNIST_CNN_FOLDER,
  };
  onProgress?.({ kind: 'data', message: `loading ${s.domain} (${s.trainSize} train, ${s.testSize} test)` });
  const data = domainData(s.domain, s);
  const steps = Math.ceil(data.train.count / s.batchSize);
  const probe = await loadMnistCnn(s.modelFolder);
  const fullCount = countTrainable(probe);
  probe.dispose();
  const rows: AdaptationRow[] = [];
  const emit = (row: AdaptationRow) => {
    rows.push(row);
    onProgress?.({ kind: 'result', row });
  };
  const fit = async (method: string, model: tfl.LayersModel, learningRate: number) => {
    onProgress?.({ kind: 'start', method, epochs: s.epochs, steps });
    return train(model, data.train, { epochs: s.epochs, batchSize: s.batchSize, learningRate, seed: s.seed }, (st) =>
      onProgress?.({
        kind: 'step',
        method,
        epoch: st.epoch,
        epochs: s.epochs,
        step: st.step,
        steps: st.steps,
        loss: st.loss,
      }),
    );
  };
  const row = (
    method: string,
    r: number | null,
    acc: number,
    trainable: number,
    seconds: number,
    peakBytes: number,
  ): AdaptationRow => ({
    method,
    r,
    accuracy: acc,
    trainable,
    percentOfFull: (100 * trainable) / fullCount,
    trainSeconds: seconds,
    peakBytes,
  });

  for (const method of s.methods) {
    const model = await loadMnistCnn(s.modelFolder);
    try {
      if (method === 'base') {
        emit(row('base (no training)', null, await accuracy(model, data.test), 0, 0, 0));
      } else if (method === 'head') {
        for (const layer of model.layers) if (layer.name !== 'head') layer.trainable = false;
        const t = await fit('head only', model, s.learningRate.head);
        emit(row('head only', null, await accuracy(model, data.test), countTrainable(model), t.seconds, t.peakBytes));
      } else if (method === 'full') {
        const t = await fit('full fine-tuning', model, s.learningRate.full);
        emit(
          row(
            'full fine-tuning',
            null,
            await accuracy(model, data.test),
            countTrainable(model),
            t.seconds,
            t.peakBytes,
          ),
        );
      } else {
        for (const r of s.ranks) {
          const lora = applyLora(
            model,
            { r, loraAlpha: options.loraAlpha ?? 2 * r, targetModules: s.targetModules },
            { seed: s.seed },
          );
          try {
            const name = `LoRA r=${r}`;
            const t = await fit(name, lora.model, s.learningRate.lora);
            emit(
              row(
                name,
                r,
                await accuracy(lora.model, data.test),
                lora.trainableParameters().trainable,
                t.seconds,
                t.peakBytes,
              ),
            );
            await options.onLoraTrained?.(lora, r);
          } finally {
            lora.dispose();
          }
        }
      }
    } finally {
      model.dispose();
    }
  }
  return { domain: s.domain, backend: tf.getBackend(), rows, settings: { ...s, loraAlpha: options.loraAlpha ?? '2r' } };
}

/** The rows as a Markdown table (accuracy %, parameters, % of full, seconds, peak MB). */
export function formatAdaptationTable(rows: readonly AdaptationRow[]): string {
  const lines = [
    '| method | target accuracy | trainable params | % of full FT | train time (s) | peak tf.memory (MB) |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const mb = r.peakBytes > 0 ? (r.peakBytes / 2 ** 20).toFixed(1) : '–';
    const secs = r.trainSeconds > 0 ? r.trainSeconds.toFixed(1) : '–';
    lines.push(
      `| ${r.method} | ${(100 * r.accuracy).toFixed(2)}% | ${r.trainable.toLocaleString('en-US')} | ${r.percentOfFull.toFixed(1)}% | ${secs} | ${mb} |`,
    );
  }
  return lines.join('\n');
}
