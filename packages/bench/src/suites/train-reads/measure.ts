// The train-reads benchmark's measurement, the same in Node and in a browser page: LoRA training steps
// on the active tfjs backend with each step's loss read before the next step (the old loop) against
// core's `train`, which keeps the losses on the device and reads them asynchronously in groups.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, createTrainStep, train, type LoraModel } from '@tfjs-lora/core';

/** Sizes of one run. */
export interface TrainReadsOptions {
  /** Input features (default 64). */
  inputs: number;
  /** Units of the two hidden layers (default 128). */
  hidden: number;
  /** Examples per step (default 32). */
  batch: number;
  /** Steps per variant per round (default 24). */
  steps: number;
  /** Interleaved rounds; medians are reported (default 5). */
  rounds: number;
}

/** One variant's median ms per step, the per-round values and the last loss (to show it trains). */
export interface VariantResult {
  name: string;
  msPerStep: number;
  rounds: number[];
  lastLoss: number;
}

/** The defaults of {@link TrainReadsOptions}. */
export const DEFAULT_TRAIN_READS: TrainReadsOptions = {
  inputs: 64,
  hidden: 128,
  batch: 32,
  steps: 24,
  rounds: 5,
};

/** Deterministic values in [-1, 1) (a tiny LCG, the same on every platform). */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function lora(o: TrainReadsOptions): LoraModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const base = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: o.hidden, activation: 'relu', inputShape: [o.inputs], kernelInitializer: init(1) }),
      tfl.layers.dense({ units: o.hidden, activation: 'relu', kernelInitializer: init(2) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
  return applyLora(base, { r: 8, loraAlpha: 16, targetModules: 'all-linear' }, { seed: 4 }) as LoraModel;
}

/** Runs `fn`, waits for it, and returns the wall-clock ms per step. */
async function perStep(steps: number, fn: () => Promise<number>): Promise<{ ms: number; loss: number }> {
  const t0 = performance.now();
  const loss = await fn();
  return { ms: (performance.now() - t0) / steps, loss };
}

/**
 * Times the variants side by side on the active backend: one warm-up round each (shader compilation),
 * then `rounds` interleaved rounds of `steps` steps each. Every variant has its own model (same
 * weights) and Adam optimizer, and uploads each batch from the same host arrays.
 */
export async function measureTrainReads(options: Partial<TrainReadsOptions> = {}): Promise<VariantResult[]> {
  const o = { ...DEFAULT_TRAIN_READS, ...options };
  const n = o.steps * o.batch;
  const xHost = values(n * o.inputs, 7);
  const labels = values(n, 9);
  const yHost = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) yHost[i * 10 + Math.floor((labels[i]! + 1) * 5)] = 1;
  const x = tf.tensor2d(xHost, [n, o.inputs]);
  const y = tf.tensor2d(yHost, [n, 10]);
  const batchOf = (i: number): [tf.Tensor, tf.Tensor] => [
    tf.tensor2d(xHost.subarray(i * o.batch * o.inputs, (i + 1) * o.batch * o.inputs), [o.batch, o.inputs]),
    tf.tensor2d(yHost.subarray(i * o.batch * 10, (i + 1) * o.batch * 10), [o.batch, 10]),
  ];
  const models: LoraModel[] = [];
  const optimizers: tf.Optimizer[] = [];
  const fresh = (): { model: LoraModel; optimizer: tf.Optimizer } => {
    const model = lora(o);
    const optimizer = tf.train.adam(1e-3);
    models.push(model);
    optimizers.push(optimizer);
    return { model, optimizer };
  };
  const variants: Record<string, () => Promise<number>> = {};
  {
    const { model, optimizer } = fresh();
    const step = createTrainStep(model.model, { optimizer, loss: 'categoricalCrossentropy' });
    variants['await each step’s loss before the next (createTrainStep)'] = async () => {
      let loss = NaN;
      for (let i = 0; i < o.steps; i++) {
        const [xb, yb] = batchOf(i);
        loss = await step(xb, yb);
        tf.dispose([xb, yb]);
      }
      return loss;
    };
  }
  for (const interval of [1, 16]) {
    const { model, optimizer } = fresh();
    const name =
      interval === 16 ? 'train, grouped async reads (lossReadInterval 16, the default)' : 'train, lossReadInterval 1';
    variants[name] = async () => {
      let loss = NaN;
      await train(
        model.model,
        { x, y },
        {
          optimizer,
          loss: 'categoricalCrossentropy',
          batchSize: o.batch,
          lossReadInterval: interval,
          onBatchEnd: (b) => void (loss = b.loss),
        },
      );
      return loss;
    };
  }
  const times: Record<string, number[]> = {};
  const last: Record<string, number> = {};
  try {
    for (const [name, fn] of Object.entries(variants)) {
      await perStep(o.steps, fn); // warm-up: shaders compile, Adam's slots are created
      times[name] = [];
    }
    for (let r = 0; r < o.rounds; r++) {
      for (const [name, fn] of Object.entries(variants)) {
        const { ms, loss } = await perStep(o.steps, fn);
        times[name]!.push(ms);
        last[name] = loss;
      }
    }
  } finally {
    tf.dispose([x, y]);
    optimizers.forEach((opt) => opt.dispose());
    models.forEach((m) => m.dispose());
  }
  return Object.entries(times).map(([name, rounds]) => ({
    name,
    msPerStep: [...rounds].sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!,
    rounds,
    lastLoss: last[name]!,
  }));
}
