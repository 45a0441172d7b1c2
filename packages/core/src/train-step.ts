// A lean training step and loop: optimizer.minimize over the model's trainable variables, the same
// update `model.fit` / `trainOnBatch` make (mean loss + the layers' regularisation losses), without
// their per-batch bookkeeping (callbacks, logs, metric tensors, sample-weight handling).
import * as tf from '@tensorflow/tfjs-core';
import { metrics, type LayersModel } from '@tensorflow/tfjs-layers';
import { isTrainableModel, type TrainableModel } from './model-kind.js';
import { LoraConfigError } from './errors/index.js';
import { seededRandom } from './random.js';

/** A loss `(yTrue, yPred) => per-example or scalar loss`; the step takes its mean, as `fit` does. */
export type LossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** tfjs-layers' loss names that {@link createTrainStep} accepts (the same functions `compile` uses). */
export type LossName = 'categoricalCrossentropy' | 'binaryCrossentropy' | 'meanSquaredError' | 'meanAbsoluteError';

const LOSSES: Record<LossName, LossFunction> = {
  categoricalCrossentropy: metrics.categoricalCrossentropy,
  binaryCrossentropy: metrics.binaryCrossentropy,
  meanSquaredError: metrics.meanSquaredError,
  meanAbsoluteError: metrics.meanAbsoluteError,
};

/** Options of {@link createTrainStep}. */
export interface TrainStepOptions {
  /** The optimizer; the step does not dispose it. */
  optimizer: tf.Optimizer;
  /** A tfjs-layers loss name or a loss function. */
  loss: LossName | LossFunction;
  /** Variables to train; default: the model's trainable weights when the step is created. */
  variables?: tf.Variable[];
}

/**
 * One optimisation step on a batch. The update is enqueued before the call returns; the batch's loss is
 * read back asynchronously (`await loss.data()`), so a caller may start the next step before awaiting it.
 */
export type TrainStep = (x: tf.Tensor | tf.Tensor[], y: tf.Tensor) => Promise<number>;

/** The loss function for a name or function; throws naming the supported names. */
export function resolveLoss(loss: LossName | LossFunction): LossFunction {
  if (typeof loss === 'function') return loss;
  const fn = LOSSES[loss];
  if (!fn) {
    throw new LoraConfigError(
      `Unknown loss '${String(loss)}'; expected a function or one of: ${Object.keys(LOSSES).join(', ')}.`,
      { field: 'loss' },
    );
  }
  return fn;
}

/**
 * What training accepts: a tf.LayersModel (`lora.model`), or any {@link TrainableModel} — `LoraModel` itself,
 * `@tfjs-lora/graph`'s `LoraGraphModel`.
 */
export type TrainableTarget = LayersModel | TrainableModel;

/** The variables that train in `model` when the step is created. */
function trainableVariablesOf(model: TrainableTarget): tf.Variable[] {
  return isTrainableModel(model)
    ? model.trainableVariables
    : model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** The scalar training loss of a batch: mean of `loss`, plus the model's regularisation losses (as `fit`). */
function batchLoss(model: TrainableTarget, loss: LossFunction, x: tf.Tensor | tf.Tensor[], y: tf.Tensor): tf.Scalar {
  let total = tf.mean(loss(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
  for (const reg of model.calculateLosses?.() ?? []) total = tf.add(total, reg);
  return total;
}

/**
 * A training step for `model`: forward in training mode, mean loss (plus regularisation losses),
 * backward and one optimizer update of the trainable variables — numerically the update of
 * `model.fit` / `trainOnBatch` with the same optimizer and loss, at less overhead per batch. Only
 * the LoRA factors train in a LoRA model (its frozen weights are not trainable). Leaks no tensors; the
 * returned promise resolves to the loss, read back asynchronously (no synchronous GPU read, so it works on
 * WebGPU; the next step may be started before awaiting it).
 *
 * @example
 * const step = createTrainStep(lora, { optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
 * const loss = await step(xs, ys);
 */
export function createTrainStep(model: TrainableTarget, options: TrainStepOptions): TrainStep {
  const step = createDeviceStep(model, options);
  return async (x, y) => {
    const cost = step(x, y);
    try {
      return (await cost.data())[0]!;
    } finally {
      cost.dispose();
    }
  };
}

/** The step of {@link createTrainStep} that leaves the loss on the device (the caller disposes it). */
function createDeviceStep(
  model: TrainableTarget,
  options: TrainStepOptions,
): (x: tf.Tensor | tf.Tensor[], y: tf.Tensor) => tf.Scalar {
  const loss = resolveLoss(options.loss);
  const variables = options.variables ?? trainableVariablesOf(model);
  if (variables.length === 0) {
    throw new LoraConfigError(
      `createTrainStep: model '${model.name ?? 'model'}' has no trainable weights; expected LoRA factors or unfrozen layers. Apply LoRA or unfreeze a layer first.`,
      { field: 'variables' },
    );
  }
  return (x, y) => options.optimizer.minimize(() => batchLoss(model, loss, x, y), true, variables)!;
}

/** Batch-level progress of {@link train}. */
export interface BatchEnd {
  /** 0-based epoch. */
  epoch: number;
  /** 0-based batch within the epoch. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** This batch's loss. */
  loss: number;
}

/** Epoch-level results of {@link train}. */
export interface EpochEnd {
  /** 0-based epoch. */
  epoch: number;
  /** Mean training loss over the epoch's batches (weighted by batch size). */
  loss: number;
  /** Loss on the validation data (no training), when given. */
  valLoss?: number;
}

/** Options of {@link train}. */
export interface TrainOptions extends TrainStepOptions {
  /** Passes over the data (default 1). */
  epochs?: number;
  /** Examples per step (default 32). */
  batchSize?: number;
  /** Shuffle the examples every epoch with this seed (deterministic); default: no shuffling. */
  shuffleSeed?: number;
  /** Data to evaluate the loss on after each epoch. */
  validationData?: { x: tf.Tensor; y: tf.Tensor };
  /**
   * Called once per batch, in batch order, when that batch's loss has been read back (may be async;
   * awaited). Losses are read in groups of `lossReadInterval` steps, so the call for a batch can come
   * after later steps have been enqueued; every batch of an epoch is reported before its `onEpochEnd`.
   */
  onBatchEnd?: (info: BatchEnd) => void | Promise<void>;
  /**
   * Steps between asynchronous loss reads (default 16). The losses stay on the device and are read back
   * in one download per group, while the next group's steps run; each epoch's last group is read at its
   * end. 1 reads after every step (the old behaviour, minus the synchronous read).
   */
  lossReadInterval?: number;
  /** Called after every epoch (may be async; awaited). */
  onEpochEnd?: (info: EpochEnd) => void | Promise<void>;
}

/**
 * What {@link train} returns: per-epoch losses, like `fit`'s `history.history` (per-batch losses reach
 * `onBatchEnd` only).
 */
export interface TrainHistory {
  /** Mean training loss per epoch. */
  loss: number[];
  /** Validation loss per epoch (empty without validation data). */
  valLoss: number[];
}

/**
 * Mean loss of `model` on (x, y) in inference mode, in batches. The per-batch sums stay on the device and
 * are read back once, asynchronously (`data()`), then added on the host in float64.
 */
export async function evaluateLoss(
  model: TrainableTarget,
  loss: LossName | LossFunction,
  x: tf.Tensor,
  y: tf.Tensor,
  batchSize = 256,
): Promise<number> {
  const fn = resolveLoss(loss);
  const n = x.shape[0];
  const sums: tf.Scalar[] = [];
  try {
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      sums.push(
        tf.tidy(() => {
          const xb = tf.slice(x, start, size);
          const yb = tf.slice(y, start, size);
          return tf.sum(fn(yb, model.apply(xb, { training: false }) as tf.Tensor)) as tf.Scalar;
        }),
      );
    }
    const values = await readScalars(sums);
    let sum = 0;
    for (const v of values) sum += v;
    return sum / n;
  } finally {
    tf.dispose(sums);
  }
}

/** The values of scalar tensors, in order, with one asynchronous read (the tensors stay the caller's). */
async function readScalars(scalars: tf.Scalar[]): Promise<Float32Array> {
  if (scalars.length === 0) return new Float32Array(0);
  const stacked = tf.stack(scalars);
  try {
    return (await stacked.data()) as Float32Array;
  } finally {
    stacked.dispose();
  }
}

/**
 * Trains `model` on (x, y) with {@link createTrainStep}: `epochs` passes in batches of `batchSize`
 * (the last one smaller, as `fit`), optional seeded shuffling, batch and epoch callbacks, validation
 * loss per epoch. The same updates as `model.fit` with `shuffle: false` (or the same order), less
 * overhead per batch: x and y are read to the host once (`data()`, asynchronous, so WebGPU works too) and
 * each batch is uploaded from there. No synchronous read anywhere: each step's loss stays on the device
 * and is read back asynchronously every `lossReadInterval` steps and at each epoch's end, while the
 * following steps run (see {@link TrainOptions.onBatchEnd}). Leaks no tensors; the optimizer stays the
 * caller's.
 */
export async function train(
  model: TrainableTarget,
  data: { x: tf.Tensor; y: tf.Tensor },
  options: TrainOptions,
): Promise<TrainHistory> {
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new LoraConfigError(`train: epochs must be a positive integer; found ${epochs}.`, { field: 'epochs' });
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new LoraConfigError(`train: batchSize must be a positive integer; found ${batchSize}.`, {
      field: 'batchSize',
    });
  const readInterval = options.lossReadInterval ?? 16;
  if (!Number.isInteger(readInterval) || readInterval < 1)
    throw new LoraConfigError(`train: lossReadInterval must be a positive integer; found ${readInterval}.`, {
      field: 'lossReadInterval',
    });
  const step = createDeviceStep(model, options);
  const n = data.x.shape[0];
  const batches = Math.ceil(n / batchSize);
  const next = options.shuffleSeed === undefined ? null : seededRandom(options.shuffleSeed);
  const history: TrainHistory = { loss: [], valLoss: [] };
  // Batches are copied from the data read once (asynchronously), not cut with tf.slice/tf.gather:
  // on stock tfjs wasm, GatherV2 (what fit uses) takes ~2 ms for 64 rows of 784 and Slice 2-5 ms or more
  // (it reads the whole input), against a whole step of ~6-20 ms.
  const rows = [await hostRows(data.x), await hostRows(data.y)];
  // Losses of enqueued steps not read yet, and the one read in flight (started, not yet reported).
  let pending: { batch: number; cost: tf.Scalar }[] = [];
  let inFlight = null as InFlightRead | null; // assigned in startRead (a closure): no narrowing to null
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = next ? shuffledIndices(n, next) : null;
      let sum = 0;
      // Reports a group's losses in batch order once its read has arrived, then frees them.
      const report = async (flight: InFlightRead): Promise<void> => {
        const values = await flight.read;
        tf.dispose(flight.group.map((p) => p.cost));
        for (let i = 0; i < flight.group.length; i++) {
          const batch = flight.group[i]!.batch;
          const loss = values[i]!;
          sum += loss * Math.min(batchSize, n - batch * batchSize);
          await options.onBatchEnd?.({ epoch, batch, batches, loss });
        }
      };
      // Starts reading the pending losses; reports the previous read first (at most one in flight).
      const startRead = async (): Promise<void> => {
        const group = pending;
        pending = [];
        const read = readScalars(group.map((p) => p.cost));
        const previous = inFlight;
        inFlight = { group, read };
        if (previous) await report(previous);
      };
      for (let batch = 0; batch < batches; batch++) {
        const start = batch * batchSize;
        const size = Math.min(batchSize, n - start);
        const [xb, yb] = rows.map((r) => r.batch(start, size, order));
        try {
          pending.push({ batch, cost: step(xb, yb) });
        } finally {
          tf.dispose([xb, yb]);
        }
        if (pending.length >= readInterval) await startRead();
      }
      if (pending.length > 0) await startRead();
      const last = inFlight;
      inFlight = null;
      if (last) await report(last);
      const info: EpochEnd = { epoch, loss: sum / n };
      history.loss.push(info.loss);
      if (options.validationData) {
        info.valLoss = await evaluateLoss(model, options.loss, options.validationData.x, options.validationData.y);
        history.valLoss.push(info.valLoss);
      }
      await options.onEpochEnd?.(info);
    }
  } finally {
    // After an error (a throwing step or callback): free what was not reported.
    tf.dispose(pending.map((p) => p.cost));
    if (inFlight) {
      const { group, read } = inFlight;
      await read.catch(() => undefined);
      tf.dispose(group.map((p) => p.cost));
    }
  }
  return history;
}

/** A group of steps' losses whose asynchronous read has started. */
interface InFlightRead {
  group: { batch: number; cost: tf.Scalar }[];
  read: Promise<Float32Array>;
}

/** A tensor's values on the host, cut into batches of whole rows (first axis). */
async function hostRows(
  t: tf.Tensor,
): Promise<{ batch(start: number, size: number, order: Int32Array | null): tf.Tensor }> {
  const values = (await t.data()) as Float32Array | Int32Array | Uint8Array;
  const rowSize = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const shape = t.shape.slice(1);
  return {
    batch(start, size, order) {
      let out: typeof values;
      if (!order) {
        out = values.subarray(start * rowSize, (start + size) * rowSize);
      } else {
        out = new (values.constructor as Float32ArrayConstructor)(size * rowSize) as typeof values;
        for (let i = 0; i < size; i++)
          out.set(values.subarray(order[start + i]! * rowSize, (order[start + i]! + 1) * rowSize), i * rowSize);
      }
      return tf.tensor(out, [size, ...shape], t.dtype);
    },
  };
}

function shuffledIndices(n: number, next: () => number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
