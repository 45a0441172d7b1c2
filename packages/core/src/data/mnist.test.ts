// The MNIST idx loader: header checks against the raw bytes, slicing, scaling, and the tensor helper.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoraError } from '../errors/index.js';
import { gzipSync } from 'node:zlib';
import { loadMnist, MNIST_PIXELS, mnistFiles, mnistTensors, readIdxImages } from './mnist.js';

/** The first `n` bytes of a file, read independently of the loader. */
function head(path: string, n: number): Buffer {
  return readFileSync(path).subarray(0, n);
}

describe('loadMnist', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('reads the idx headers the files declare (magic 0x803 / 0x801, 60000 / 10000 examples, 28×28)', () => {
    for (const [split, n] of [
      ['train', 60000],
      ['test', 10000],
    ] as const) {
      const files = mnistFiles(split);
      const img = head(files.images, 16);
      const lab = head(files.labels, 8);
      expect(img.readUInt32BE(0)).toBe(0x803);
      expect(lab.readUInt32BE(0)).toBe(0x801);
      expect([img.readUInt32BE(4), img.readUInt32BE(8), img.readUInt32BE(12)]).toEqual([n, 28, 28]);
      expect(lab.readUInt32BE(4)).toBe(n);
      expect(loadMnist({ split, limit: 1 }).count).toBe(1);
    }
  });

  it('returns the bytes of the requested slice, scaled to [0, 1]', () => {
    const files = mnistFiles('train');
    const rawLabels = readFileSync(files.labels).subarray(8);
    const rawImages = readFileSync(files.images).subarray(16);
    const offset = 1234;
    const d = loadMnist({ split: 'train', offset, limit: 100 });
    expect(d.count).toBe(100);
    expect(d.images).toBeInstanceOf(Float32Array);
    expect(d.images.length).toBe(100 * MNIST_PIXELS);
    expect(Array.from(d.labels)).toEqual(Array.from(rawLabels.subarray(offset, offset + 100)));
    for (const i of [0, 400, 100 * MNIST_PIXELS - 1])
      expect(d.images[i]).toBe(Math.fround(rawImages[offset * MNIST_PIXELS + i] / 255));
    expect(Math.min(...d.images)).toBe(0);
    expect(Math.max(...d.images)).toBe(1);
  });

  it('matches the well-known start of MNIST (first train labels 5 0 4 1 9, first test label 7)', () => {
    expect(Array.from(loadMnist({ split: 'train', limit: 5 }).labels)).toEqual([5, 0, 4, 1, 9]);
    expect(loadMnist({ split: 'test', limit: 1 }).labels[0]).toBe(7);
  });

  it('reads a whole split with every label in 0..9 and every class present', () => {
    const d = loadMnist({ split: 'test' });
    expect(d.count).toBe(10000);
    const counts = new Array<number>(10).fill(0);
    d.labels.forEach((l) => counts[l]++);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10000);
    expect(Math.min(...counts)).toBeGreaterThan(800); // each digit is 8.9-11.4 % of t10k
  });

  it('rejects an offset or limit outside the split', () => {
    expect(() => loadMnist({ split: 'test', offset: 10001 })).toThrow(/'offset' must be an integer in \[0, 10000\]/);
    expect(() => loadMnist({ split: 'test', offset: 9990, limit: 11 })).toThrow(
      /'limit' must be an integer in \[0, 10\]/,
    );
    expect(() => loadMnist({ split: 'test', limit: 1.5 })).toThrow(LoraError);
  });
});

describe('loadMnist on damaged files', () => {
  let dir: string;
  const real = mnistFiles('test');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mnist-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function withFiles(images: Buffer, labels: Buffer): string {
    const d = mkdtempSync(join(dir, 'case-'));
    const files = mnistFiles('test', d);
    writeFileSync(files.images, images);
    writeFileSync(files.labels, labels);
    return d;
  }

  it('throws a LoraError naming the expected and found magic number', () => {
    const images = readFileSync(real.images);
    const swapped = withFiles(readFileSync(real.labels), images); // labels file where images belong
    let error: unknown;
    try {
      loadMnist({ split: 'test', dir: swapped });
    } catch (e) {
      error = e;
    }
    expect(LoraError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/expected magic 0x00000803, found magic 0x00000801/);
  });

  it('throws when a file is shorter than its header says', () => {
    const truncated = withFiles(
      readFileSync(real.images).subarray(0, 16 + 5 * MNIST_PIXELS),
      readFileSync(real.labels),
    );
    expect(() => loadMnist({ split: 'test', dir: truncated })).toThrow(
      /declares dimensions \[10000, 28, 28\], so 7840016 bytes, but it has 3936/,
    );
  });

  it('throws when the counts disagree or a label is out of range', () => {
    const labels = Buffer.from(readFileSync(real.labels).subarray(0, 8 + 3));
    labels.writeUInt32BE(3, 4);
    const images = Buffer.from(readFileSync(real.images).subarray(0, 16 + 3 * MNIST_PIXELS));
    images.writeUInt32BE(3, 4);
    const short = withFiles(images, labels.subarray(0, 8 + 3));
    expect(loadMnist({ split: 'test', dir: short }).count).toBe(3);
    const fewer = Buffer.from(labels.subarray(0, 8 + 2));
    fewer.writeUInt32BE(2, 4);
    expect(() => loadMnist({ split: 'test', dir: withFiles(images, fewer) })).toThrow(
      /holds 3 images but .* holds 2 labels/,
    );
    labels[8 + 1] = 10;
    expect(() => loadMnist({ split: 'test', dir: withFiles(images, labels) })).toThrow(
      /label 1 of .* is 10; expected 0..9/,
    );
  });

  it('throws when the files are missing', () => {
    expect(() => loadMnist({ split: 'train', dir })).toThrow(/cannot open .*train-images-idx3-ubyte/);
  });
});

describe('readIdxImages', () => {
  it('reads gzipped idx files (Fashion-MNIST layout) to the same slice as the plain files', () => {
    const files = mnistFiles('test');
    const tmp = mkdtempSync(join(tmpdir(), 'idx-gz-'));
    try {
      const gz = { images: join(tmp, 'images.gz'), labels: join(tmp, 'labels.gz') };
      writeFileSync(gz.images, gzipSync(readFileSync(files.images)));
      writeFileSync(gz.labels, gzipSync(readFileSync(files.labels)));
      const plain = loadMnist({ split: 'test', offset: 9990 });
      const zipped = readIdxImages({ ...gz, offset: 9990, name: 'Fashion-MNIST', fix: 'Reinstall it' });
      expect(zipped.count).toBe(10);
      expect(zipped.labels).toEqual(plain.labels);
      expect(zipped.images).toEqual(plain.images);
      writeFileSync(gz.labels, gzipSync(readFileSync(files.labels).subarray(0, 100)));
      expect(() => readIdxImages({ ...gz, name: 'Fashion-MNIST', fix: 'Reinstall it' })).toThrow(
        /Fashion-MNIST: .*labels.gz declares dimensions \[10000\], so 10008 bytes, but it has 100.*reinstall it/,
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('mnistTensors', () => {
  it('makes xs [n, 784] and one-hot ys [n, 10] without leaking, inverted on request', () => {
    const d = loadMnist({ split: 'train', limit: 8 });
    const before = tf.memory().numTensors;
    const { xs, ys } = mnistTensors(d);
    const inv = mnistTensors(d, { invert: true });
    expect(xs.shape).toEqual([8, 784]);
    expect(ys.shape).toEqual([8, 10]);
    expect(ys.dtype).toBe('float32');
    expect(Array.from(tf.tidy(() => tf.argMax(ys, 1).dataSync()))).toEqual(Array.from(d.labels));
    expect(tf.tidy(() => tf.sum(ys).dataSync()[0])).toBe(8);
    expect(xs.dataSync()).toEqual(d.images);
    expect(inv.xs.dataSync()[0]).toBe(1 - d.images[0]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(tf.add(xs, inv.xs), 1))).dataSync()[0])).toBeLessThan(1e-6);
    [xs, ys, inv.xs, inv.ys].forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});
