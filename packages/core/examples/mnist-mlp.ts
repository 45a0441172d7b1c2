// LoRA on MNIST, end to end: pre-train a small MLP on MNIST digits (full fine-tuning), then adapt it with
// LoRA to a new domain, inverted MNIST (1 − x, white background), where the base model fails. Prints the
// backend, per-epoch progress, accuracy before and after, trainable parameters of LoRA vs full
// fine-tuning, the wall time of each phase, and an ASCII loss curve.
//
//   pnpm start                                  (repository root; = pnpm --filter @tfjs-lora/core run mnist)
//   npx tsx examples/mnist-mlp.ts [--backend wasm|cpu] [--full|--no-full]   (in packages/core)
//
// wasm is used when it initialises, else cpu. A reference run of full fine-tuning on the new domain
// follows LoRA, except on cpu (too slow: ~60 s) unless --full; --no-full skips it everywhere.
import { wasmBackend } from './wasm-backend.js';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadMnist, mnistTensors } from '../src/data/mnist.js';
import { applyLora, BackendUnavailableError, registerLoraBackend, useBackend, type LoraBackend } from '../src/index.js';

const PRETRAIN = { images: 10_000, epochs: 3, learningRate: 1e-3 };
const ADAPT = { images: 10_000, offset: 10_000, epochs: 5, learningRate: 5e-3 };
const LORA = { r: 8, loraAlpha: 16, targetModules: ['hidden', 'head'] };
const HIDDEN = 128;
const BATCH = 64;

type Split = { xs: tf.Tensor2D; ys: tf.Tensor2D };
type Score = { loss: number; accuracy: number };

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;

function buildMlp(): tfl.Sequential {
  const model = tfl.sequential();
  // Pixels to [−1, 1]: inversion then flips the input's sign rather than shifting every unit by a constant.
  model.add(tfl.layers.rescaling({ name: 'rescale', scale: 2, offset: -1, inputShape: [784] }));
  model.add(
    tfl.layers.dense({
      name: 'hidden',
      units: HIDDEN,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  model.add(
    tfl.layers.dense({
      name: 'head',
      units: 10,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  return model;
}

function evaluate(model: tfl.LayersModel, data: Split): Score {
  return tf.tidy(() => {
    const p = model.predict(data.xs, { batchSize: 1000 }) as tf.Tensor2D;
    const loss = tf.mean(tfl.metrics.categoricalCrossentropy(data.ys, p)).dataSync()[0];
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(data.ys, 1)), 'float32')).dataSync()[0];
    return { loss, accuracy };
  });
}

/** Trains with fit, printing one line per epoch (and a live batch counter on a terminal); returns batch losses. */
async function train(
  label: string,
  model: tfl.LayersModel,
  data: Split,
  heldOut: Split,
  epochs: number,
  learningRate: number,
): Promise<number[]> {
  model.compile({ optimizer: tf.train.adam(learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const losses: number[] = [];
  const steps = Math.ceil(data.xs.shape[0] / BATCH);
  let started = 0;
  await model.fit(data.xs, data.ys, {
    epochs,
    batchSize: BATCH,
    shuffle: false, // reproducible runs; MNIST files are not sorted by label
    verbose: 0,
    callbacks: {
      onEpochBegin: async () => {
        started = performance.now();
      },
      onBatchEnd: async (batch, logs) => {
        losses.push(logs?.['loss'] as number);
        if (process.stdout.isTTY && batch % 10 === 0)
          process.stdout.write(
            `\r  ${label}  batch ${batch + 1}/${steps}  loss ${(logs?.['loss'] as number).toFixed(4)}   `,
          );
      },
      onEpochEnd: async (epoch, logs) => {
        const held = evaluate(model, heldOut);
        if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
        console.log(
          `  ${label}  epoch ${epoch + 1}/${epochs}  loss ${(logs?.['loss'] as number).toFixed(4)}  acc ${pct(logs?.['acc'] as number)}` +
            `  | held-out loss ${held.loss.toFixed(4)}  acc ${pct(held.accuracy)}  (${seconds(performance.now() - started)})`,
        );
      },
    },
  });
  return losses;
}

/** A log-scale ASCII plot of a series (averaged into `width` columns), with the y axis labelled. */
function asciiPlot(values: number[], width = 64, height = 12): string {
  const cols = Math.min(width, values.length);
  const points = Array.from({ length: cols }, (_, c) => {
    const from = Math.floor((c * values.length) / cols);
    const to = Math.max(from + 1, Math.floor(((c + 1) * values.length) / cols));
    const slice = values.slice(from, to);
    return slice.reduce((a, b) => a + b, 0) / slice.length;
  });
  const lo = Math.log(Math.min(...points));
  const hi = Math.log(Math.max(...points));
  const row = (v: number): number => (hi === lo ? 0 : Math.round(((hi - Math.log(v)) / (hi - lo)) * (height - 1)));
  const grid = Array.from({ length: height }, () => new Array<string>(cols).fill(' '));
  points.forEach((v, c) => {
    const r = row(v);
    grid[r][c] = '•';
    for (let below = r + 1; below < height; below++) grid[below][c] = grid[below][c] === ' ' ? '·' : grid[below][c];
  });
  const label = (r: number): string =>
    Math.exp(hi - ((hi - lo) * r) / (height - 1))
      .toPrecision(3)
      .padStart(7);
  const lines = grid.map(
    (cells, r) =>
      `${r === 0 || r === height - 1 || r === Math.floor(height / 2) ? label(r) : ' '.repeat(7)} ┤${cells.join('')}`,
  );
  lines.push(`${' '.repeat(8)}└${'─'.repeat(cols)}`);
  lines.push(
    `${' '.repeat(9)}batch 1${' '.repeat(Math.max(1, cols - 7 - String(values.length).length - 6))}batch ${values.length}`,
  );
  return lines.join('\n');
}

/** Whether two weights have the same bytes. */
function sameBits(a: tfl.LayerVariable, b: tfl.LayerVariable): boolean {
  const x = a.read().dataSync() as Float32Array;
  const y = b.read().dataSync() as Float32Array;
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}

/** The requested backend, else wasm, else cpu (saying why wasm could not be used). */
async function chooseBackend(requested: string | undefined): Promise<LoraBackend> {
  registerLoraBackend(wasmBackend);
  if (requested) return useBackend(requested);
  try {
    return await useBackend('wasm');
  } catch (e) {
    const why = BackendUnavailableError.isInstance(e) ? e.attempts.map((a) => a.reason).join('; ') : String(e);
    console.log(`wasm backend unavailable (${why}); falling back to cpu`);
    return useBackend('cpu');
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const backend = await chooseBackend(args.includes('--backend') ? args[args.indexOf('--backend') + 1] : undefined);
  console.log(
    `tfjs-lora MNIST → inverted MNIST  |  backend: ${backend.name} (tf.getBackend() = '${tf.getBackend()}')  |  node ${process.version}`,
  );
  const times: [string, number][] = [];
  const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t = performance.now();
    const out = await fn();
    times.push([name, performance.now() - t]);
    return out;
  };

  const { pre, adapt, test, testInverted } = await timed('load data', () => {
    const preData = loadMnist({ split: 'train', limit: PRETRAIN.images });
    const adaptData = loadMnist({ split: 'train', offset: ADAPT.offset, limit: ADAPT.images });
    const testData = loadMnist({ split: 'test' });
    return {
      pre: mnistTensors(preData),
      adapt: mnistTensors(adaptData, { invert: true }),
      test: mnistTensors(testData),
      testInverted: mnistTensors(testData, { invert: true }),
    };
  });
  console.log(
    `data: ${PRETRAIN.images} MNIST digits to pre-train, ${ADAPT.images} other digits inverted to adapt, 10000 test digits (plain and inverted)\n`,
  );

  console.log(
    `1) Pre-training the base MLP 784-${HIDDEN}-10 on MNIST (full fine-tuning, ${PRETRAIN.epochs} epochs, batch ${BATCH}, Adam ${PRETRAIN.learningRate})`,
  );
  const base = buildMlp();
  const preLosses = await timed('pre-train base (full)', () =>
    train('base', base, pre, test, PRETRAIN.epochs, PRETRAIN.learningRate),
  );
  const baseClean = evaluate(base, test);
  const baseInverted = evaluate(base, testInverted);
  console.log(
    `   base model: MNIST test accuracy ${pct(baseClean.accuracy)}; inverted MNIST accuracy ${pct(baseInverted.accuracy)} (loss ${baseInverted.loss.toFixed(3)})\n`,
  );

  const lm = applyLora(base, LORA, { seed: 7 });
  const params = lm.trainableParameters();
  const full = base.countParams();
  console.log(
    `2) LoRA r=${LORA.r}, alpha=${LORA.loraAlpha} on Dense layers ${LORA.targetModules.join(', ')} (base frozen), ${ADAPT.epochs} epochs, Adam ${ADAPT.learningRate}, on inverted MNIST`,
  );
  console.log(
    `   trainable parameters: LoRA ${params.trainable.toLocaleString('en')} of ${params.total.toLocaleString('en')} (${params.percent.toFixed(2)}%)  vs  full fine-tuning ${full.toLocaleString('en')} of ${full.toLocaleString('en')} (100%)`,
  );
  const loraLosses = await timed('LoRA fine-tune', () =>
    train('lora', lm.model, adapt, testInverted, ADAPT.epochs, ADAPT.learningRate),
  );
  const loraInverted = evaluate(lm.model, testInverted);
  const trainedCount = lm.trainableParameters().trainable;
  const frozenKept = lm.model.weights
    .filter((w) => !w.trainable)
    .every((w) =>
      sameBits(
        w,
        base.weights.find((b) => b.originalName === w.originalName)!,
      ),
    );
  const baseAgain = lm.withAdaptersDisabled(() => evaluate(lm.model, test));
  const merged = lm.mergeAndUnload();
  const mergedInverted = evaluate(merged, testInverted);
  merged.dispose();
  console.log(
    `   after LoRA: inverted MNIST accuracy ${pct(loraInverted.accuracy)} (loss ${loraInverted.loss.toFixed(3)}); merged into a plain model: ${pct(mergedInverted.accuracy)}`,
  );
  console.log(
    `   frozen base weights bit-identical after training: ${frozenKept ? 'yes' : 'NO'}; trainable after fit: ${trainedCount}; adapters disabled → MNIST ${pct(baseAgain.accuracy)} (the base model, unchanged)\n`,
  );

  let fullInverted: Score | null = null;
  const runFull = args.includes('--full') || (!args.includes('--no-full') && backend.name !== 'cpu');
  if (!runFull)
    console.log('3) Reference full fine-tuning skipped (--no-full, or the slow cpu backend; --full forces it)\n');
  else {
    console.log(
      `3) Reference: full fine-tuning of a copy of the base model on inverted MNIST (${ADAPT.epochs} epochs, Adam 1e-3)`,
    );
    const copy = buildMlp();
    copy.setWeights(base.getWeights());
    await timed('full fine-tune (reference)', () => train('full', copy, adapt, testInverted, ADAPT.epochs, 1e-3));
    fullInverted = evaluate(copy, testInverted);
    copy.dispose();
    console.log('');
  }

  console.log('Summary');
  console.log(`  backend                      ${backend.name}`);
  console.log(`  base on MNIST                ${pct(baseClean.accuracy)}`);
  console.log(`  base on inverted MNIST       ${pct(baseInverted.accuracy)}  (before LoRA)`);
  console.log(
    `  LoRA on inverted MNIST       ${pct(loraInverted.accuracy)}  (after LoRA; ${params.trainable.toLocaleString('en')} trainable = ${params.percent.toFixed(2)}% of ${params.total.toLocaleString('en')})`,
  );
  if (fullInverted)
    console.log(
      `  full FT on inverted MNIST    ${pct(fullInverted.accuracy)}  (reference; ${full.toLocaleString('en')} trainable = 100%)`,
    );
  for (const [name, ms] of times) console.log(`  time: ${name.padEnd(28)} ${seconds(ms)}`);
  console.log(`\nLoRA training loss per batch (log scale), ${loraLosses.length} batches:`);
  console.log(asciiPlot(loraLosses));
  console.log(`\nBase pre-training loss per batch (log scale), ${preLosses.length} batches:`);
  console.log(asciiPlot(preLosses));

  lm.dispose();
  base.dispose();
  tf.dispose([pre, adapt, test, testInverted].flatMap((s) => [s.xs, s.ys]));
}

await main();
