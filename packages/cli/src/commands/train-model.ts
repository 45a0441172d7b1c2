// `tfjs-lora train --model <path or URL>`: LoRA on a pretrained model the user brings, through core's
// loadPretrained (tfjs LayersModel model.json, Keras 3 .keras, and the formats of whichever plugins are
// installed), on a task chosen from the model's input shape (pretrained-task.ts).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  applyLora,
  createTrainStep,
  loadPretrained,
  LoraConfigError,
  savePeftAdapter,
  type LoraConfigInput,
  type LoraModel,
  type TrainableModel,
} from '@tfjs-lora/core';
import { openModelFiles } from '@tfjs-lora/core/pretrained';
import { resolve } from 'node:path';
import type { CliIO } from '../command.js';
import { hfTextSource } from '../hf-text-model.js';
import { progressLine } from '../progress.js';
import { pretrainedTask, type InputSpec, type PretrainedTask, type Split } from '../pretrained-task.js';

/** Options of a `--model` run (the train command's flags). */
export interface TrainModelOptions {
  model: string;
  head?: string;
  rank?: string;
  alpha?: string;
  targets?: string;
  steps?: string;
  out: string;
  /** The --task given on the command line (undefined when left at its default). */
  task?: string;
  /** Hugging Face text models: training and held-out e-mails, tokens per e-mail, Adam's learning rate. */
  trainSize?: string;
  testSize?: string;
  maxLength?: string;
  learningRate?: string;
}

/** The new head's name when `--head new`. */
export const TASK_HEAD = 'task_head';

/** Layer classes LoRA targets by default (those core, @tfjs-lora/vision and @tfjs-lora/nlp adapt). */
const TARGET_CLASSES = new Set([
  'Dense',
  'Conv1D',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'Conv2DTranspose',
  'Embedding',
]);

/**
 * Registers every model format and layer kind the CLI can have: @tfjs-lora/keras, vision and nlp (its
 * dependencies), and @tfjs-lora/graph when it is installed (optional: not a dependency).
 */
export async function registerFormats(): Promise<void> {
  await import('@tfjs-lora/keras');
  await import('@tfjs-lora/vision');
  await import('@tfjs-lora/nlp');
  const graph = '@tfjs-lora/graph';
  await import(graph).catch(() => undefined);
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new LoraConfigError(`${flag} expects a positive integer; found '${v}'.`, { field: flag });
  return n;
}

function inputSpec(model: tfl.LayersModel | { inputs: { shape: (number | null)[]; dtype: string }[] }): InputSpec {
  const inputs = model.inputs as unknown as { shape: (number | null)[]; dtype: string }[];
  if (inputs.length !== 1)
    throw new LoraConfigError(`train --model needs a model with one input; this one has ${inputs.length}.`, {
      field: 'model',
    });
  const spec: InputSpec = { shape: [...inputs[0]!.shape], dtype: inputs[0]!.dtype };
  if (model instanceof tfl.LayersModel) {
    const first = model.layers.find((l) => l.getClassName() !== 'InputLayer');
    if (first?.getClassName() === 'Embedding') spec.vocabulary = Number(first.getConfig()['inputDim']);
  }
  return spec;
}

/** The base with a new softmax head of `classes` units on the input of its last Dense layer. */
function withNewHead(model: tfl.LayersModel, classes: number): tfl.LayersModel {
  const last = model.layers[model.layers.length - 1]!;
  if (model.outputs.length !== 1 || last.getClassName() !== 'Dense')
    throw new LoraConfigError(
      `--head new replaces a final Dense layer; this model ends in ${last.getClassName()}. Use --head keep to train on its outputs.`,
      { field: 'head' },
    );
  const features = last.input as tfl.SymbolicTensor;
  const head = tfl.layers
    .dense({
      name: TASK_HEAD,
      units: classes,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    })
    .apply(features);
  return tfl.model({ inputs: model.inputs, outputs: head as tfl.SymbolicTensor, name: `${model.name}_task` });
}

function defaultTargets(model: tfl.LayersModel): string[] {
  return model.layers.filter((l) => TARGET_CLASSES.has(l.getClassName()) && l.name !== TASK_HEAD).map((l) => l.name);
}

async function accuracy(model: TrainableModel | tfl.LayersModel, split: Split, batch: number): Promise<number> {
  let correct = 0;
  const n = split.labels.length;
  for (let i = 0; i < n; i += batch) {
    const size = Math.min(batch, n - i);
    const predicted = tf.tidy(() => {
      const x = tf.slice(split.x, i, size);
      return tf.argMax((model as tfl.LayersModel).predict(x) as tf.Tensor, -1);
    });
    const values = await predicted.data();
    predicted.dispose();
    for (let k = 0; k < size; k++) if (values[k] === split.labels[i + k]) correct++;
  }
  return correct / n;
}

/** Runs LoRA training on a pretrained model; prints accuracy before and after, and saves the adapter. */
export async function trainPretrainedModel(opts: TrainModelOptions, io: CliIO): Promise<void> {
  await registerFormats();
  io.out(`loading ${opts.model}\n`);
  const hf = await hfTextSource(await openModelFiles(opts.model));
  if (hf) {
    if (opts.task !== undefined && opts.task !== 'text')
      throw new LoraConfigError(
        `${opts.model} is a Hugging Face ${String(hf.config['model_type'])} text model; it trains on --task text, not '${opts.task}'.`,
        { field: 'task' },
      );
    const { trainHfText } = await import('./train-hf-text.js');
    await trainHfText(hf, opts, io);
    return;
  }
  const loaded = await loadPretrained(opts.model);
  const owned: { task?: tfl.LayersModel } = {};
  try {
    await trainLoaded(loaded, opts, io, owned);
  } finally {
    // A task model shares every layer but the old head with the loaded model: dispose it, then that head.
    if (owned.task) {
      owned.task.dispose();
      (loaded as tfl.LayersModel).layers.at(-1)!.dispose();
    } else (loaded as tfl.LayersModel).dispose();
  }
}

async function trainLoaded(
  loaded: Awaited<ReturnType<typeof loadPretrained>>,
  opts: TrainModelOptions,
  io: CliIO,
  owned: { task?: tfl.LayersModel },
): Promise<void> {
  const layers = loaded instanceof tfl.LayersModel ? loaded : undefined;
  const headMode = opts.head ?? (layers && layers.layers.at(-1)?.getClassName() === 'Dense' ? 'new' : 'keep');
  if (headMode !== 'new' && headMode !== 'keep')
    throw new LoraConfigError(`--head expects new or keep; found '${opts.head}'.`, { field: 'head' });
  const spec = inputSpec(loaded as tfl.LayersModel);
  const outputWidth = Number((loaded as tfl.LayersModel).outputs[0]!.shape.at(-1));
  const text = spec.vocabulary !== undefined || spec.dtype === 'int32';
  const classes = text ? 2 : 10;
  if (headMode === 'new' && !layers)
    throw new LoraConfigError('--head new needs a LayersModel; use --head keep for this model.', { field: 'head' });
  if (headMode === 'new') owned.task = withNewHead(layers!, classes);
  const base = owned.task ?? loaded;
  const width = headMode === 'new' ? classes : outputWidth;
  const r = positiveInt('--rank', (opts.rank ?? '8').split(',')[0]!.trim());
  const targets = opts.targets ?? (layers ? defaultTargets(base as tfl.LayersModel) : undefined);
  if (targets === undefined || targets.length === 0)
    throw new LoraConfigError('No layer to adapt: pass --targets (layer or node names, or a regex).', {
      field: 'targets',
    });
  const config: LoraConfigInput = {
    r,
    loraAlpha: opts.alpha ? Number(opts.alpha) : 2 * r,
    targetModules: targets,
    ...(headMode === 'new' ? { modulesToSave: [TASK_HEAD] } : {}),
  };
  const task = await pretrainedTask(spec, width, { train: 2000, test: 500 });
  try {
    const lora = await applyLora(base as tfl.LayersModel, config, { seed: 1 });
    try {
      await trainAndSave(lora, task, r, headMode === 'new', opts, io, (layers ?? { name: 'model' }).name);
    } finally {
      lora.dispose();
    }
  } finally {
    tf.dispose([task.train.x, task.train.y, task.test.x, task.test.y]);
  }
}

async function trainAndSave(
  lora: LoraModel,
  task: PretrainedTask,
  r: number,
  newHead: boolean,
  opts: TrainModelOptions,
  io: CliIO,
  modelName: string,
): Promise<void> {
  const counts = lora.trainableParameters();
  io.out(`task: ${task.description}\n`);
  io.out(
    // A LoRA graph model (@tfjs-lora/graph) has no loraLayers(): count what it has.
    `LoRA r=${r} on ${typeof lora.loraLayers === 'function' ? lora.loraLayers().length : 'the targeted'} layer(s)${newHead ? ` + new head '${TASK_HEAD}'` : ''}: ` +
      `${counts.trainable.toLocaleString('en-US')} trainable of ${counts.total.toLocaleString('en-US')} parameters (${counts.percent.toFixed(2)}%)\n`,
  );
  const before = await accuracy(lora, task.test, 100);
  const steps = opts.steps ? positiveInt('--steps', opts.steps) : 200;
  const optimizer = tf.train.adam(1e-3);
  const step = createTrainStep(lora, { optimizer, loss: 'categoricalCrossentropy' });
  const bar = progressLine(io);
  bar.start(`LoRA r=${r}`, steps);
  const started = Date.now();
  const n = task.train.labels.length;
  try {
    for (let i = 0; i < steps; i++) {
      const at = (i * 32) % Math.max(1, n - 32);
      const x = tf.slice(task.train.x, at, Math.min(32, n));
      const y = tf.slice(task.train.y, at, Math.min(32, n));
      const loss = await step(x, y).finally(() => tf.dispose([x, y]));
      bar.update(i + 1, `loss ${loss.toFixed(4)}`);
    }
  } finally {
    optimizer.dispose();
  }
  const seconds = (Date.now() - started) / 1000;
  const after = await accuracy(lora, task.test, 100);
  bar.done(
    `LoRA r=${r}: accuracy ${(100 * before).toFixed(2)}% → ${(100 * after).toFixed(2)}% in ${seconds.toFixed(1)} s`,
  );
  const dir = resolve(opts.out, `${modelName}-lora-r${r}`);
  await savePeftAdapter(lora, dir);
  io.out(
    `held-out accuracy ${(100 * after).toFixed(2)}% (before training ${(100 * before).toFixed(2)}%, chance ${(100 / task.numClasses).toFixed(0)}%); adapter saved in PEFT format: ${dir}\n`,
  );
}
