// `tfjs-lora train`: the project's experiments from the command line, with progress and a results table.
// --task vision: the MNIST CNN adapted to inverted+rotated digits (and Fashion-MNIST when installed);
// --task text: the Moby Dick character LM adapted to State of the Union speeches.
import { LoraConfigError, savePeftAdapter, type LoraModel } from '@tfjs-lora/core';
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { BACKEND_HELP, selectBackend } from '../backend.js';
import type { CliCommand, CliIO } from '../command.js';
import { progressLine } from '../progress.js';

/** Options of `tfjs-lora train`. */
export interface TrainOptions {
  task: string;
  domain: string;
  rank?: string;
  alpha?: string;
  targets?: string;
  epochs?: string;
  steps?: string;
  trainSize?: string;
  testSize?: string;
  seed?: string;
  methods?: string;
  backend: string;
  out: string;
  /** A pretrained model to adapt instead of the built-in experiments (path or URL; see train-model.ts). */
  model?: string;
  /** With --model: 'new' (a new classification head; default for models ending in Dense) or 'keep'. */
  head?: string;
  /** With a Hugging Face text model: tokens per e-mail. */
  maxLength?: string;
  /** With a Hugging Face text model: Adam's learning rate. */
  learningRate?: string;
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new LoraConfigError(`${flag} expects a positive integer; found '${v}'.`, { field: flag });
  return n;
}

const VISION_METHODS = ['base', 'head', 'lora', 'full'] as const;

function visionMethods(list: string): (typeof VISION_METHODS)[number][] {
  return list.split(',').map((m) => {
    const name = m.trim();
    if (!(VISION_METHODS as readonly string[]).includes(name))
      throw new LoraConfigError(`--methods expects a list of ${VISION_METHODS.join(', ')}; found '${name}'.`, {
        field: 'methods',
      });
    return name as (typeof VISION_METHODS)[number];
  });
}

async function trainVision(opts: TrainOptions, io: CliIO): Promise<void> {
  const { runDomainAdaptation, formatAdaptationTable, fashionMnistFolder } =
    await import('@tfjs-lora/vision/experiments');
  const domains =
    opts.domain === 'all'
      ? (['mnist-inverted-rotated', ...(fashionMnistFolder() ? ['fashion-mnist'] : [])] as const)
      : ([opts.domain] as const);
  if (opts.domain === 'all' && !fashionMnistFolder()) {
    io.out(
      'Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): running inverted+rotated MNIST only.\n',
    );
  }
  const ranks = (opts.rank ?? '1,4,8').split(',').map((r) => positiveInt('--rank', r.trim()));
  for (const domain of domains) {
    if (domain !== 'mnist-inverted-rotated' && domain !== 'fashion-mnist') {
      throw new LoraConfigError(`--domain expects mnist-inverted-rotated, fashion-mnist or all; found '${domain}'.`, {
        field: 'domain',
      });
    }
    const outDir = resolve(opts.out, domain);
    const saved: string[] = [];
    io.out(`\n== ${domain}: base CNN → ${domain} (ranks ${ranks.join(', ')}) ==\n`);
    const bar = progressLine(io);
    const started = Date.now();
    const result = await runDomainAdaptation(
      {
        domain,
        ranks,
        ...(opts.alpha ? { loraAlpha: Number(opts.alpha) } : {}),
        ...(opts.targets ? { targetModules: opts.targets } : {}),
        ...(opts.epochs ? { epochs: positiveInt('--epochs', opts.epochs) } : {}),
        ...(opts.trainSize ? { trainSize: positiveInt('--train-size', opts.trainSize) } : {}),
        ...(opts.testSize ? { testSize: positiveInt('--test-size', opts.testSize) } : {}),
        ...(opts.seed ? { seed: positiveInt('--seed', opts.seed) } : {}),
        ...(opts.methods ? { methods: visionMethods(opts.methods) } : {}),
        onLoraTrained: async (lora: LoraModel, r: number) => {
          const dir = join(outDir, `lora-r${r}`);
          await savePeftAdapter(lora, dir);
          saved.push(dir);
        },
      },
      (p) => {
        if (p.kind === 'data') bar.note(p.message);
        else if (p.kind === 'start') bar.start(p.method, p.epochs * p.steps);
        else if (p.kind === 'step')
          bar.update((p.epoch - 1) * p.steps + p.step, `epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}`);
        else
          bar.done(
            `${p.row.method}: accuracy ${(100 * p.row.accuracy).toFixed(2)}% in ${p.row.trainSeconds.toFixed(1)} s`,
          );
      },
    );
    io.out(`\n${formatAdaptationTable(result.rows)}\n`);
    io.out(
      `backend ${result.backend}, ${((Date.now() - started) / 1000).toFixed(0)} s; adapters saved in PEFT format: ${saved.join(', ') || 'none'}\n`,
    );
  }
}

async function trainText(opts: TrainOptions, io: CliIO): Promise<void> {
  const { runStyleAdaptation, formatStyleTable } = await import('@tfjs-lora/nlp/experiments');
  const bar = progressLine(io);
  let current = '';
  const result = await runStyleAdaptation(
    {
      r: positiveInt('--rank', (opts.rank ?? '8').split(',')[0]!.trim()),
      ...(opts.alpha ? { loraAlpha: Number(opts.alpha) } : {}),
      ...(opts.steps ? { steps: positiveInt('--steps', opts.steps) } : {}),
    },
    (p) => {
      if (p.phase === 'train') {
        if (p.method !== current) bar.start(String(p.method), p.steps ?? 1);
        current = String(p.method);
        bar.update(p.step ?? 0, `loss ${(p.loss ?? 0).toFixed(3)}`);
      } else if (p.phase === 'done') bar.done(`${p.method} done`);
      else bar.note(`${p.method}: ${p.phase}`);
    },
  );
  io.out(`\nbase model held-out perplexity ${result.basePerplexity.toFixed(2)}\n${formatStyleTable(result)}\n`);
  if (result.samples) {
    io.out(
      `\nprompt: ${JSON.stringify(result.samples.prompt)}\n  adapter on:  ${JSON.stringify(result.samples.adapterOn)}\n  adapter off: ${JSON.stringify(result.samples.adapterOff)}\n`,
    );
  }
}

/** `tfjs-lora train --task vision|text`. */
export const trainCommand: CliCommand = {
  name: 'train',
  register(program, ctx) {
    program
      .command('train')
      .description(
        'run a LoRA experiment: adapt the pretrained MNIST CNN to a new domain (vision) or the Moby Dick LM to speeches (text), with a results table',
      )
      .option('--task <task>', 'vision or text', 'vision')
      .option(
        '--domain <domain>',
        'vision: mnist-inverted-rotated, fashion-mnist, or all (Fashion-MNIST when installed)',
        'all',
      )
      .option('--rank <list>', 'LoRA ranks, comma-separated (vision default 1,4,8; text: one rank, default 8)')
      .option('--alpha <n>', 'LoRA alpha (default: 2·r)')
      .option(
        '--targets <regex>',
        "LoRA target modules (vision default 'conv1|conv2|fc1|head'; --model: every Dense, convolution and Embedding layer)",
      )
      .option('--epochs <n>', 'vision: passes over the training data (default 2)')
      .option('--steps <n>', 'text: optimizer steps per method (default 150)')
      .option('--train-size <n>', 'vision: target-domain training examples (default 6000)')
      .option('--test-size <n>', 'vision: target-domain test examples (default 2000)')
      .option('--seed <n>', 'vision: seed of data order, rotations and LoRA init (default 1)')
      .option('--methods <list>', 'vision: methods to compare, comma-separated (default base,head,lora,full)')
      .option('--backend <name>', BACKEND_HELP, 'auto')
      .option('--out <dir>', 'where trained adapters are saved (PEFT format)', 'tfjs-lora-output')
      .option(
        '--model <path or URL>',
        'adapt this pretrained model instead (model.json, .keras, a Hugging Face folder or hf://org/name, ...: whatever loadPretrained reads) on a task fitted to it: MNIST for images/vectors, text for token ids, SpamAssassin spam/ham for Hugging Face GPT-2/BERT/DistilBERT',
      )
      .option(
        '--head <new|keep>',
        "with --model: train a new classification head ('new') or the model's own outputs ('keep')",
      )
      .option(
        '--max-length <n>',
        'with a Hugging Face text model: tokens per e-mail (default 128, at most its positions)',
      )
      .option('--learning-rate <x>', "with a Hugging Face text model: Adam's learning rate (default 1e-3)")
      .action(async (opts: TrainOptions, command: Command) => {
        const backend = await selectBackend(opts.backend);
        if (opts.model !== undefined) {
          ctx.io.out(`tfjs-lora train --model on ${backend}\n`);
          const { trainPretrainedModel } = await import('./train-model.js');
          const task = command.getOptionValueSource('task') === 'cli' ? opts.task : undefined;
          await trainPretrainedModel({ ...opts, model: opts.model, task }, ctx.io);
          return;
        }
        ctx.io.out(`tfjs-lora train --task ${opts.task} on ${backend}\n`);
        if (opts.task === 'vision') await trainVision(opts, ctx.io);
        else if (opts.task === 'text') await trainText(opts, ctx.io);
        else throw new LoraConfigError(`--task expects vision or text; found '${opts.task}'.`, { field: 'task' });
      });
  },
};
