// createTrainStep / train against an independent reference: tfjs-layers' own `fit` and a hand-written
// optimizer.minimize loop with the same seeds, optimizer settings and batches (cpu backend); history,
// validation, callbacks, errors, and no tensor leaks.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { LoraConfigError } from './errors/index.js';
import { applyLora } from './apply-lora.js';
import type { LoraModel } from './lora-model.js';
import { seededValues } from './random.js';
import { createTrainStep, evaluateLoss, train } from './train-step.js';

const N = 48;
const BATCH = 16;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A small LoRA MLP (same weights every call), with LoRA dropout off so that runs are deterministic. */
function loraMlp(): { base: tfl.Sequential; lm: LoraModel } {
  const base = tfl.sequential();
  base.add(
    tfl.layers.dense({
      name: 'h',
      units: 12,
      activation: 'relu',
      inputShape: [8],
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      kernelRegularizer: tfl.regularizers.l2({ l2: 1e-3 }),
    }),
  );
  base.add(
    tfl.layers.dense({
      name: 'out',
      units: 4,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  const lm = applyLora(
    base,
    { r: 2, loraAlpha: 4, targetModules: ['h', 'out'], initLoraWeights: 'gaussian' },
    { seed: 5 },
  );
  return { base, lm };
}

function dataset(): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const x = tf.tensor2d(seededValues(N * 8, 3), [N, 8]);
  const labels = Array.from(seededValues(N, 4), (v) => Math.floor((v + 1) * 2) % 4);
  return { x, y: tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 4), 'float32')) as tf.Tensor2D };
}

const weightsOf = (m: tfl.LayersModel) => m.trainableWeights.map((w) => Array.from(w.read().dataSync()));

function maxWeightDiff(a: number[][], b: number[][]): number {
  return Math.max(...a.flatMap((w, i) => w.map((v, j) => Math.abs(v - b[i]![j]!))));
}

describe('createTrainStep and train (cpu)', () => {
  it('createTrainStep equals fit (shuffle off) and a plain optimizer.minimize loop, step for step', async () => {
    const data = dataset();
    const runs = [loraMlp(), loraMlp(), loraMlp()];
    // 1. tfjs-layers fit
    const opt0 = tf.train.adam(0.01); // an optimizer object passed to compile stays the caller's to dispose
    runs[0]!.lm.model.compile({ optimizer: opt0, loss: 'categoricalCrossentropy' });
    const history = await runs[0]!.lm.model.fit(data.x, data.y, {
      epochs: 1,
      batchSize: BATCH,
      shuffle: false,
      verbose: 0,
    });
    // 2. createTrainStep
    const opt = tf.train.adam(0.01);
    const step = createTrainStep(runs[1]!.lm.model, { optimizer: opt, loss: 'categoricalCrossentropy' });
    const losses: number[] = [];
    for (let s = 0; s < N / BATCH; s++) {
      const [xb, yb] = [tf.slice(data.x, s * BATCH, BATCH), tf.slice(data.y, s * BATCH, BATCH)];
      losses.push(await step(xb, yb));
      tf.dispose([xb, yb]);
    }
    // 3. a hand-written loop (independent of train-step.ts): mean cross-entropy + regularisation
    const opt3 = tf.train.adam(0.01);
    const m3 = runs[2]!.lm.model;
    const vars = m3.trainableWeights.map((w) => w.read() as tf.Variable);
    for (let s = 0; s < N / BATCH; s++) {
      tf.tidy(() => {
        const [xb, yb] = [tf.slice(data.x, s * BATCH, BATCH), tf.slice(data.y, s * BATCH, BATCH)];
        opt3.minimize(
          () => {
            const p = tf.clipByValue(m3.apply(xb, { training: true }) as tf.Tensor, 1e-7, 1 - 1e-7);
            const ce = tf.mean(tf.neg(tf.sum(tf.mul(yb, tf.log(p)), -1)));
            return m3.calculateLosses().reduce((acc: tf.Tensor, l) => tf.add(acc, l), ce) as tf.Scalar;
          },
          false,
          vars,
        );
      });
    }
    expect(maxWeightDiff(weightsOf(runs[1]!.lm.model), weightsOf(runs[0]!.lm.model))).toBeLessThan(1e-6);
    expect(maxWeightDiff(weightsOf(runs[1]!.lm.model), weightsOf(m3))).toBeLessThan(1e-5);
    // fit's epoch loss is the batch-size-weighted mean of the batch losses.
    expect(
      Math.abs((history.history['loss']![0] as number) - losses.reduce((a, b) => a + b) / losses.length),
    ).toBeLessThan(1e-6);
    expect(Math.max(...weightsOf(runs[1]!.lm.model).flat().map(Math.abs))).toBeGreaterThan(0);
    [opt0, opt, opt3].forEach((o) => o.dispose());
    runs.forEach(({ base, lm }) => (lm.dispose(), base.dispose()));
    tf.dispose([data.x, data.y]);
  });

  it('train equals fit over epochs with a remainder batch, reports batches/epochs/validation, and leaks nothing', async () => {
    const data = dataset();
    const val = { x: tf.slice(data.x, 0, 20), y: tf.slice(data.y, 0, 20) };
    const [a, b] = [loraMlp(), loraMlp()];
    const fitOpt = tf.train.sgd(0.1);
    a.lm.model.compile({ optimizer: fitOpt, loss: 'categoricalCrossentropy' });
    const fitHistory = await a.lm.model.fit(data.x, data.y, {
      epochs: 2,
      batchSize: 20,
      shuffle: false,
      verbose: 0,
      validationData: [val.x, val.y],
    });
    const opt = tf.train.sgd(0.1);
    const batchLog: string[] = [];
    const epochLog: number[] = [];
    const before = tf.memory().numTensors;
    const history = await train(b.lm.model, data, {
      optimizer: opt,
      loss: 'categoricalCrossentropy',
      epochs: 2,
      batchSize: 20,
      validationData: val,
      onBatchEnd: ({ epoch, batch, batches }) => void batchLog.push(`${epoch}.${batch}/${batches}`),
      onEpochEnd: ({ epoch }) => void epochLog.push(epoch),
    });
    expect(tf.memory().numTensors).toBe(before); // sgd keeps no state
    expect(batchLog).toEqual(['0.0/3', '0.1/3', '0.2/3', '1.0/3', '1.1/3', '1.2/3']);
    expect(epochLog).toEqual([0, 1]);
    expect(maxWeightDiff(weightsOf(b.lm.model), weightsOf(a.lm.model))).toBeLessThan(1e-6);
    history.loss.forEach((l, i) => expect(Math.abs(l - (fitHistory.history['loss']![i] as number))).toBeLessThan(1e-5));
    // fit's val_loss includes the regularisation term; evaluateLoss reports the data loss alone.
    const reg = tf.tidy(() => b.lm.model.calculateLosses().reduce((s, l) => s + l.dataSync()[0]!, 0));
    expect(Math.abs(history.valLoss[1]! + reg - (fitHistory.history['val_loss']![1] as number))).toBeLessThan(1e-4);
    expect(history.valLoss[1]).toBeCloseTo(await evaluateLoss(b.lm.model, 'categoricalCrossentropy', val.x, val.y), 6);
    [fitOpt, opt].forEach((o) => o.dispose());
    [a, b].forEach(({ base, lm }) => (lm.dispose(), base.dispose()));
    tf.dispose([data.x, data.y, val.x, val.y]);
  });

  it('a step leaks no tensors once the optimizer has its state, with a seeded shuffle too', async () => {
    const data = dataset();
    const { base, lm } = loraMlp();
    const opt = tf.train.adam(1e-3);
    await train(lm.model, data, { optimizer: opt, loss: 'categoricalCrossentropy', batchSize: 16, shuffleSeed: 9 });
    const before = tf.memory().numTensors;
    const history = await train(lm.model, data, {
      optimizer: opt,
      loss: 'categoricalCrossentropy',
      batchSize: 16,
      shuffleSeed: 9,
      epochs: 2,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(history.loss.every(Number.isFinite)).toBe(true);
    opt.dispose();
    lm.dispose();
    base.dispose();
    tf.dispose([data.x, data.y]);
  });

  it('reads losses asynchronously in groups: the same numbers as a per-step synchronous read, in batch order, nothing leaked', async () => {
    const data = dataset();
    // Reference: the old loop, one synchronous read per step (test code may read synchronously on cpu).
    const ref = loraMlp();
    const refOpt = tf.train.adam(0.01);
    const refVars = ref.lm.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const refLosses: number[] = [];
    const refEpochs: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      let sum = 0;
      for (let start = 0; start < N; start += 20) {
        const size = Math.min(20, N - start);
        const [xb, yb] = [tf.slice(data.x, start, size), tf.slice(data.y, start, size)];
        const cost = refOpt.minimize(
          () => {
            const ce = tf.mean(
              tfl.metrics.categoricalCrossentropy(yb, ref.lm.model.apply(xb, { training: true }) as tf.Tensor),
            );
            return ref.lm.model.calculateLosses().reduce((acc: tf.Tensor, l) => tf.add(acc, l), ce) as tf.Scalar;
          },
          true,
          refVars,
        )!;
        const loss = cost.dataSync()[0]!;
        tf.dispose([cost, xb, yb]);
        refLosses.push(loss);
        sum += loss * size;
      }
      refEpochs.push(sum / N);
    }
    for (const lossReadInterval of [1, 2, undefined]) {
      const run = loraMlp();
      const before = tf.memory().numTensors;
      const opt = tf.train.adam(0.01); // with its state, disposed below: the count must return to `before`
      const log: string[] = [];
      const losses: number[] = [];
      const history = await train(run.lm.model, data, {
        optimizer: opt,
        loss: 'categoricalCrossentropy',
        epochs: 2,
        batchSize: 20,
        lossReadInterval,
        onBatchEnd: async ({ epoch, batch, loss }) => {
          await new Promise((r) => setTimeout(r, 1)); // an async callback is awaited before the next report
          log.push(`b${epoch}.${batch}`);
          losses.push(loss);
        },
        onEpochEnd: ({ epoch }) => void log.push(`e${epoch}`),
      });
      expect(tf.memory().numTensors - before).toBe(2 * refVars.length + 2); // adam: 2 moments per variable, 2 accumulators
      expect(log).toEqual(['b0.0', 'b0.1', 'b0.2', 'e0', 'b1.0', 'b1.1', 'b1.2', 'e1']);
      expect(losses).toEqual(refLosses); // exactly the numbers of the per-step synchronous read
      expect(history.loss).toEqual(refEpochs);
      opt.dispose();
      expect(tf.memory().numTensors).toBe(before);
      run.lm.dispose();
      run.base.dispose();
    }
    refOpt.dispose();
    ref.lm.dispose();
    ref.base.dispose();
    tf.dispose([data.x, data.y]);
  });

  it('a throwing onBatchEnd rejects train and leaks no tensors; lossReadInterval is validated', async () => {
    const data = dataset();
    const { base, lm } = loraMlp();
    const opt = tf.train.sgd(0.1);
    const before = tf.memory().numTensors;
    await expect(
      train(lm.model, data, {
        optimizer: opt,
        loss: 'categoricalCrossentropy',
        batchSize: 8,
        lossReadInterval: 2,
        onBatchEnd: ({ batch }) => {
          if (batch === 1) throw new Error('stop');
        },
      }),
    ).rejects.toThrow('stop');
    expect(tf.memory().numTensors).toBe(before);
    await expect(
      train(lm.model, data, { optimizer: opt, loss: 'categoricalCrossentropy', lossReadInterval: 0 }),
    ).rejects.toThrow(/lossReadInterval must be a positive integer/);
    const x = tf.slice(data.x, 0, 10);
    const y = tf.slice(data.y, 0, 10);
    const sync = tf.tidy(
      () => tf.mean(tfl.metrics.categoricalCrossentropy(y, lm.model.apply(x) as tf.Tensor)).dataSync()[0]!,
    );
    const beforeEval = tf.memory().numTensors;
    expect(await evaluateLoss(lm.model, 'categoricalCrossentropy', x, y, 3)).toBeCloseTo(sync, 6);
    expect(tf.memory().numTensors).toBe(beforeEval);
    opt.dispose();
    lm.dispose();
    base.dispose();
    tf.dispose([data.x, data.y, x, y]);
  });

  it('rejects unknown losses, bad epochs and a model with nothing to train, saying what was expected', async () => {
    const { base, lm } = loraMlp();
    const opt = tf.train.sgd(0.1);
    expect(() => createTrainStep(lm.model, { optimizer: opt, loss: 'hinge' as 'meanSquaredError' })).toThrow(
      /Unknown loss 'hinge'.*categoricalCrossentropy/,
    );
    const data = dataset();
    await expect(train(lm.model, data, { optimizer: opt, loss: 'meanSquaredError', epochs: 0 })).rejects.toThrow(
      LoraConfigError,
    );
    base.trainable = false;
    expect(() => createTrainStep(base, { optimizer: opt, loss: 'meanSquaredError' })).toThrow(/no trainable weights/);
    opt.dispose();
    lm.dispose();
    base.dispose();
    tf.dispose([data.x, data.y]);
  });
});
