// `tfjs-lora train --model <Hugging Face folder, URL or hf://org/name> --task text`: LoRA fine-tuning of a
// GPT-2, BERT or DistilBERT checkpoint (@tfjs-lora/nlp's 'hf-text' format) as a spam/ham classifier of the
// SpamAssassin e-mails, tokenized with the model's own tokenizer.json; the adapter is saved for PEFT.
import * as tf from '@tensorflow/tfjs-core';
import {
  applyLora,
  createTrainStep,
  LoraConfigError,
  savePeftAdapter,
  type LoraConfigInput,
  type LoraModel,
} from '@tfjs-lora/core';
import type { HfTokenizer } from '@tfjs-lora/nlp';
import { resolve } from 'node:path';
import type { CliIO } from '../command.js';
import { loadHfClassifier, loadHfTokenizer, type HfClassifier, type HfTextSource } from '../hf-text-model.js';
import { progressLine } from '../progress.js';

/** The flags a Hugging Face text run reads (a subset of the train command's `--model` options). */
export interface HfTextTrainOptions {
  model: string;
  out: string;
  rank?: string;
  alpha?: string;
  targets?: string;
  steps?: string;
  trainSize?: string;
  testSize?: string;
  maxLength?: string;
  learningRate?: string;
}

/** Characters of an e-mail (subject and body start) passed to the tokenizer; the tokens are truncated after. */
const MAX_CHARS = 2000;
const BATCH = 16;

/** Tokenized e-mails: the model's inputs (int32 [n, length]) in `model.inputNames` order, and 0/1 labels. */
interface TextSplit {
  inputs: tf.Tensor[];
  labels: Uint8Array;
}

function positiveInt(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new LoraConfigError(`${flag} expects a positive integer; found '${v}'.`, { field: flag });
  return n;
}

/** SpamAssassin e-mails, shuffled with a fixed seed: the first `train` for training, the last `test` held out. */
async function spamSplits(sizes: { train: number; test: number }): Promise<{ text: string; spam: boolean }[][]> {
  const { loadSpamAssassin } = await import('@tfjs-lora/nlp/experiments');
  const emails = await loadSpamAssassin();
  let seed = 7;
  const next = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let i = emails.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [emails[i], emails[j]] = [emails[j]!, emails[i]!];
  }
  const test = Math.min(sizes.test, Math.floor(emails.length / 2));
  const train = Math.min(sizes.train, emails.length - test);
  return [emails.slice(0, train), emails.slice(emails.length - test)];
}

function tokenize(
  tokenizer: HfTokenizer,
  inputNames: readonly string[],
  emails: { text: string; spam: boolean }[],
  length: number,
  padTokenId: number,
): TextSplit {
  const batch = tokenizer.encodeBatch(
    emails.map((e) => e.text.slice(0, MAX_CHARS)),
    { maxLength: length, padTo: length, padTokenId },
  );
  const byName: Record<string, tf.Tensor> = { ...batch };
  const unknown = inputNames.filter((n) => byName[n] === undefined);
  if (unknown.length > 0) {
    tf.dispose(Object.values(byName));
    throw new LoraConfigError(
      `The model takes inputs ${inputNames.join(', ')}; the tokenizer gives input_ids, attention_mask, token_type_ids, not ${unknown.join(', ')}.`,
      { field: 'model' },
    );
  }
  for (const [name, t] of Object.entries(byName)) if (!inputNames.includes(name)) t.dispose();
  return { inputs: inputNames.map((n) => byName[n]!), labels: Uint8Array.from(emails, (e) => (e.spam ? 1 : 0)) };
}

async function accuracy(lora: LoraModel, split: TextSplit): Promise<number> {
  let correct = 0;
  const n = split.labels.length;
  for (let i = 0; i < n; i += 64) {
    const size = Math.min(64, n - i);
    const predicted = tf.tidy(() => {
      const logits = lora.predict(split.inputs.map((t) => tf.slice(t, i, size))) as tf.Tensor;
      return tf.argMax(logits, -1);
    });
    const values = await predicted.data();
    predicted.dispose();
    for (let k = 0; k < size; k++) if (values[k] === split.labels[i + k]) correct++;
  }
  return correct / n;
}

/** `--targets`: module names separated by commas, or one regex over the module paths (as PEFT's target_modules). */
function targetList(targets: string | undefined): string | string[] | undefined {
  if (targets === undefined || !targets.includes(',')) return targets;
  return targets.split(',').map((t) => t.trim());
}

/** Softmax cross-entropy on logits, per example (the train step takes the mean). */
function logitsLoss(yTrue: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.losses.softmaxCrossEntropy(yTrue, logits, undefined, undefined, tf.Reduction.NONE);
}

/**
 * Trains a LoRA adapter on a Hugging Face text model as a spam/ham classifier and saves it in PEFT format;
 * prints the loss as it trains and the held-out accuracy before and after.
 */
export async function trainHfText(source: HfTextSource, opts: HfTextTrainOptions, io: CliIO): Promise<void> {
  const tokenizer = await loadHfTokenizer(source, opts.model);
  const classifier = await loadHfClassifier(source);
  try {
    await trainClassifier(classifier, tokenizer, opts, io);
  } finally {
    classifier.dispose();
  }
}

async function trainClassifier(
  classifier: HfClassifier,
  tokenizer: HfTokenizer,
  opts: HfTextTrainOptions,
  io: CliIO,
): Promise<void> {
  const { model } = classifier;
  if (classifier.note) io.out(`${classifier.note}\n`);
  const length = Math.min(positiveInt('--max-length', opts.maxLength, 128), classifier.maxPositions);
  const [trainEmails, testEmails] = await spamSplits({
    train: positiveInt('--train-size', opts.trainSize, 2000),
    test: positiveInt('--test-size', opts.testSize, 400),
  });
  const train = tokenize(tokenizer, model.inputNames, trainEmails!, length, classifier.padTokenId);
  const test = tokenize(tokenizer, model.inputNames, testEmails!, length, classifier.padTokenId);
  const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(train.labels, 'int32'), 2), 'float32'));
  const r = positiveInt('--rank', (opts.rank ?? '8').split(',')[0]!.trim(), 8);
  const config: LoraConfigInput = {
    r,
    loraAlpha: opts.alpha ? Number(opts.alpha) : 2 * r,
    targetModules: targetList(opts.targets) ?? classifier.defaultTargets,
    modulesToSave: classifier.modulesToSave,
  };
  const spam = (s: TextSplit): number => s.labels.reduce((a, b) => a + b, 0);
  io.out(
    `task: SpamAssassin spam vs ham, ${train.labels.length} training e-mails (${spam(train)} spam), ${test.labels.length} held out (${spam(test)} spam); ` +
      `${model.inputNames.join(', ')} from tokenizer.json, ${length} tokens\n`,
  );
  const lora = await applyLora(model, config, { seed: 1 });
  try {
    await fit(lora, train, y, test, { r, modulesToSave: classifier.modulesToSave, opts, io, modelName: model.name });
  } finally {
    lora.dispose();
    tf.dispose([...train.inputs, ...test.inputs, y]);
  }
}

async function fit(
  lora: LoraModel,
  train: TextSplit,
  y: tf.Tensor,
  test: TextSplit,
  c: { r: number; modulesToSave: string[]; opts: HfTextTrainOptions; io: CliIO; modelName: string },
): Promise<void> {
  const { r, opts, io } = c;
  const counts = lora.trainableParameters();
  const targets = lora.loraLayers().map((l) => l.path);
  io.out(
    `LoRA r=${r} on ${targets.length} layer(s) (${targets.slice(0, 4).join(', ')}${targets.length > 4 ? ', …' : ''}) + ${c.modulesToSave.join(', ')}: ` +
      `${counts.trainable.toLocaleString('en-US')} trainable of ${counts.total.toLocaleString('en-US')} parameters (${counts.percent.toFixed(2)}%)\n`,
  );
  const before = await accuracy(lora, test);
  const steps = positiveInt('--steps', opts.steps, 200);
  const lr = opts.learningRate === undefined ? 1e-3 : Number(opts.learningRate);
  if (!(lr > 0))
    throw new LoraConfigError(`--learning-rate expects a positive number; found '${opts.learningRate}'.`, {
      field: 'learning-rate',
    });
  const optimizer = tf.train.adam(lr);
  const step = createTrainStep(lora, { optimizer, loss: logitsLoss });
  const bar = progressLine(io);
  bar.start(`LoRA r=${r}`, steps);
  const started = Date.now();
  const n = train.labels.length;
  const size = Math.min(BATCH, n);
  const losses: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      const at = (i * size) % Math.max(1, n - size + 1);
      const xs = train.inputs.map((t) => tf.slice(t, at, size));
      const ys = tf.slice(y, at, size);
      const loss = await step(xs, ys).finally(() => tf.dispose([...xs, ys]));
      losses.push(loss);
      bar.update(i + 1, `loss ${loss.toFixed(4)}`);
    }
  } finally {
    optimizer.dispose();
  }
  const seconds = (Date.now() - started) / 1000;
  const after = await accuracy(lora, test);
  bar.done(
    `LoRA r=${r}: training loss ${losses[0]!.toFixed(4)} → ${losses.at(-1)!.toFixed(4)}, held-out accuracy ${(100 * before).toFixed(2)}% → ${(100 * after).toFixed(2)}% in ${seconds.toFixed(1)} s`,
  );
  const dir = resolve(opts.out, `${c.modelName}-spam-lora-r${r}`);
  await savePeftAdapter(lora, dir);
  const spam = test.labels.reduce((a, b) => a + b, 0);
  const majority = Math.max(spam, test.labels.length - spam) / test.labels.length;
  io.out(
    `held-out accuracy ${(100 * after).toFixed(2)}% (before training ${(100 * before).toFixed(2)}%, majority class ${(100 * majority).toFixed(0)}%); ` +
      `adapter saved in PEFT format (module paths are the Hugging Face names): ${dir}\n`,
  );
}
